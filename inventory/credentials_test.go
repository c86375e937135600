package inventory

import "testing"

// TestTelegrafCredentials: the agent's password may be an encrypted systemd credential unless the inventory says
// credentials = false.
func TestTelegrafCredentials(t *testing.T) {
	host := "\n[[hosts]]\nname = \"web1\"\naddress = \"10.0.0.5\"\n"
	if inv := parse(t, base+host); inv.Telegraf.FileSecrets {
		t.Error("credentials are off by default")
	}
	if inv := parse(t, base+"\n[telegraf]\ncredentials = true\n"+host); inv.Telegraf.FileSecrets {
		t.Error("credentials = true turns them off")
	}
	if inv := parse(t, base+"\n[telegraf]\ncredentials = false\n"+host); !inv.Telegraf.FileSecrets {
		t.Error("credentials = false does not keep the password in the file")
	}
	if _, err := Parse("inventory.toml", []byte(base+"\n[telegraf]\ncredentials = \"no\"\n"+host), "/etc/fleet", env()); err == nil {
		t.Error("a credentials that is not a boolean is accepted")
	}
}
