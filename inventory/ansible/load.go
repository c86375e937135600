package ansible

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/fleetctl/fleetctl/inventory"
	"gopkg.in/yaml.v3"
)

// ignoredInDir is what Ansible skips in an inventory directory: hidden files, the vars folders, and its
// INVENTORY_IGNORE_EXTS (which include .ini: an inventory folder's INI files must have another name).
var ignoredInDir = regexp.MustCompile(`^\.|^host_vars$|^group_vars$|^vars_plugins$|(?:\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$`)

// Load reads an Ansible inventory the way ansible-inventory does: a file (INI or YAML), or a directory of them,
// with the group_vars/ and host_vars/ folders beside the file (or inside the directory). Every problem found is
// reported, as an inventory.Errors naming file and line.
func Load(path string) (*Inventory, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read Ansible inventory: %w", err)
	}
	inv := newInventory(path)
	errs := &errorList{}
	varsDir := filepath.Dir(path)
	if st.IsDir() {
		varsDir = path
		if err := inv.loadDir(path, errs); err != nil {
			return nil, err
		}
	} else if err := inv.loadFile(path, errs); err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	inv.reconcile()
	if err := inv.loadVarsDirs(varsDir, errs); err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return inv, nil
}

func (inv *Inventory) loadDir(dir string, errs *errorList) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read Ansible inventory: %w", err)
	}
	for _, e := range entries {
		if ignoredInDir.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("read Ansible inventory: %w", err)
		}
		if st.IsDir() {
			err = inv.loadDir(p, errs)
		} else {
			err = inv.loadFile(p, errs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// loadFile reads one inventory file. As in Ansible, a file named .yml, .yaml or .json (or with no extension) is
// tried as YAML first; a file with no extension that is not a YAML mapping is read as INI, and any other file is INI.
func (inv *Inventory) loadFile(path string, errs *errorList) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read Ansible inventory: %w", err)
	}
	ext := filepath.Ext(path)
	switch {
	case ext == ".toml":
		errs.add(Pos{path, 0}, "", "convert it to INI or YAML (ansible-inventory -i FILE --list --yaml)", "TOML Ansible inventories are not supported")
		return nil
	case bytes.HasPrefix(data, []byte("#!")):
		errs.add(Pos{path, 1}, "", "run `ansible-inventory -i FILE --list --yaml > inventory.yml` and import that", "an inventory script; import-ansible runs no programs")
		return nil
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("$ANSIBLE_VAULT;")):
		errs.add(Pos{path, 1}, "", "decrypt it first (ansible-vault view)", "encrypted with ansible-vault")
		return nil
	}
	yamlish := ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"
	if !yamlish {
		inv.parseINI(path, data, errs)
		return nil
	}
	root, yerr := yamlDoc(path, data)
	if ext == "" && (yerr != nil || root == nil || root.Kind != yaml.MappingNode) {
		inv.parseINI(path, data, errs)
		return nil
	}
	if yerr != nil {
		errs.errs = append(errs.errs, yerr.(inventory.Errors)...)
		return nil
	}
	inv.parseYAML(path, root, errs)
	return nil
}

// loadVarsDirs reads group_vars/ and host_vars/ under dir for every group and host, as Ansible's host_group_vars
// plugin does: NAME, else NAME.yml, NAME.yaml or NAME.json, else a folder NAME/ whose files (recursively, sorted,
// hidden ones and backups~ skipped) are read in order. Files naming no group or host are noted, not read.
func (inv *Inventory) loadVarsDirs(dir string, errs *errorList) error {
	for _, sub := range []string{"group_vars", "host_vars"} {
		base := filepath.Join(dir, sub)
		st, err := os.Stat(base)
		if err != nil || !st.IsDir() {
			continue
		}
		used := map[string]bool{} // the NAME, NAME.yml... entries read
		type entity struct {
			name string
			vars map[string]Var
			kind string
		}
		var ents []entity
		if sub == "group_vars" {
			for _, g := range inv.groups {
				ents = append(ents, entity{g.Name, g.FileVars, "group"})
			}
		} else {
			for _, h := range inv.hosts {
				ents = append(ents, entity{h.Name, h.FileVars, "host"})
			}
		}
		for _, e := range ents {
			top, files, err := varsFiles(base, e.name)
			if err != nil {
				return err
			}
			used[top] = true
			for _, f := range files {
				inv.loadVarsFile(f, e.vars, fmt.Sprintf("%s %q", e.kind, e.name), errs)
			}
		}
		entries, err := os.ReadDir(base)
		if err != nil {
			return fmt.Errorf("read %s: %w", base, err)
		}
		what := map[string]string{"group_vars": "group", "host_vars": "host"}[sub]
		for _, e := range entries {
			name := e.Name()
			p := filepath.Join(base, name)
			if strings.HasPrefix(name, ".") || used[p] {
				continue
			}
			stem := strings.TrimSuffix(name, filepath.Ext(name))
			why := fmt.Sprintf("no %s %q in the inventory (Ansible ignores it too)", what, stem)
			switch ext := filepath.Ext(name); {
			case ext != "" && ext != ".yml" && ext != ".yaml" && ext != ".json":
				why = "Ansible reads only NAME, NAME.yml, NAME.yaml and NAME.json here"
			case inv.byName[stem] != nil && sub == "group_vars" || inv.byHost[stem] != nil && sub == "host_vars":
				why = fmt.Sprintf("Ansible reads only the first of %s, %s.yml, %s.yaml, %s.json that exists", stem, stem, stem, stem)
			}
			inv.unread = append(inv.unread, Note{Pos{p, 0}, "not read: " + why})
		}
	}
	return nil
}

// varsFiles is Ansible's DataLoader.find_vars_files: the first of NAME, NAME.yml, NAME.yaml, NAME.json that
// exists; a directory gives its files.
func varsFiles(base, name string) (top string, files []string, err error) {
	if strings.HasPrefix(name, "/") {
		return "", nil, nil
	}
	for _, ext := range []string{"", ".yml", ".yaml", ".json"} {
		p := filepath.Join(base, name+ext)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st.IsDir() {
			files, err := dirVarsFiles(p)
			return p, files, err
		}
		return p, []string{p}, nil
	}
	return "", nil, nil
}

func dirVarsFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		ext := filepath.Ext(name)
		switch {
		case st.IsDir() && ext == "":
			more, err := dirVarsFiles(p)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
		case st.Mode().IsRegular() && (ext == "" || ext == ".yml" || ext == ".yaml" || ext == ".json"):
			out = append(out, p)
		}
	}
	return out, nil
}

// loadVarsFile merges one vars file into vars; a vault-encrypted file is noted and not read.
func (inv *Inventory) loadVarsFile(path string, vars map[string]Var, owner string, errs *errorList) {
	data, err := os.ReadFile(path)
	if err != nil {
		errs.add(Pos{path, 0}, "", "", "%v", err)
		return
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("$ANSIBLE_VAULT;")) {
		inv.unread = append(inv.unread, Note{Pos{path, 0}, owner + ": not read (encrypted with ansible-vault; import-ansible reads no secrets)"})
		return
	}
	root, err := yamlDoc(path, data)
	if err != nil {
		errs.errs = append(errs.errs, err.(inventory.Errors)...)
		return
	}
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		errs.add(Pos{path, root.Line}, "", "write NAME: VALUE lines", "a vars file must be a mapping, not %s", kindName(root))
		return
	}
	for _, v := range varsOf(path, root, owner, errs) {
		setVar(vars, v)
	}
}
