package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretFilePermissions: a secret file that group or others may read or change is refused, as OpenSSH refuses
// such a private key, with the file, its mode and the chmod that fixes it; FLEETCTL_INSECURE_SECRET_FILES=1 turns
// the refusal into one warning per file.
func TestSecretFilePermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "master")
	if err := os.WriteFile(p, []byte("m4ster\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ref := `{ file = "master" }`
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o660, 0o601} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		inv := secretInventory(t, dir, ref, ref, env())
		_, err := inv.Secrets.Master.Resolve()
		want := "inventory.toml:14: secrets.master: secret file " + p + " has mode " + octal(mode) +
			": group or others can read or change it (chmod 600 " + p + ")"
		if err == nil || err.Error() != want {
			t.Errorf("mode %s: got %v\nwant %s", octal(mode), err, want)
		}
		if err := inv.CheckSecrets(); err == nil || strings.Count(err.Error(), "chmod 600") != 2 {
			t.Errorf("mode %s: CheckSecrets = %v, want both keys refused", octal(mode), err)
		}

		// The override: the value resolves, and the file is named once although two keys use it.
		inv = secretInventory(t, dir, ref, ref, env(InsecureSecretFilesEnv, "1"))
		if v, err := inv.Secrets.Master.Resolve(); err != nil || v.Reveal() != "m4ster" {
			t.Errorf("mode %s with %s=1: %q, %v", octal(mode), InsecureSecretFilesEnv, v.Reveal(), err)
		}
		w := inv.SecretFileWarnings()
		if len(w) != 1 || !strings.Contains(w[0], "inventory.toml:4: influxdb.admin_password: secret file "+p+" has mode "+octal(mode)) ||
			!strings.Contains(w[0], "chmod 600 "+p) || !strings.Contains(w[0], InsecureSecretFilesEnv+"=1") {
			t.Errorf("mode %s: warnings %q", octal(mode), w)
		}
	}
	if err := os.Chmod(p, 0o400); err != nil {
		t.Fatal(err)
	}
	inv := secretInventory(t, dir, ref, ref, env(InsecureSecretFilesEnv, "1"))
	if v, err := inv.Secrets.Master.Resolve(); err != nil || v.Reveal() != "m4ster" {
		t.Errorf("mode 0400: %v", err)
	}
	if w := inv.SecretFileWarnings(); len(w) != 0 {
		t.Errorf("a private file warned: %q", w)
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	perm := uint32(m.Perm())
	return "0" + string(digits[perm>>6&7]) + string(digits[perm>>3&7]) + string(digits[perm&7])
}
