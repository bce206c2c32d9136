package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/htpasswd"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/server"
)

func usersCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "users", Short: "Manage the users that sign in with a password"}

	add := &cobra.Command{Use: "add NAME", Short: "Add a user; the password is read from a prompt or stdin", Args: cobra.ExactArgs(1)}
	scopes := add.Flags().String("scopes", "", "comma-separated scopes the user holds")
	withStore(add, func(cfg *config.Config, st accounts.Store, args []string) error {
		ctx := context.Background()
		if _, err := st.User(ctx, args[0]); err == nil {
			return usagef("user %q already exists; nothing was changed — use 'authgate users set-password %s' to change its password", args[0], args[0])
		}
		pw, err := readPassword(e, args[0])
		if err != nil {
			return err
		}
		h, err := passhash.Hash(pw, server.Argon2(cfg))
		if err != nil {
			return err
		}
		if err := st.AddUser(ctx, args[0], h, splitList(*scopes)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s added\n", args[0])
		return nil
	})

	setpw := &cobra.Command{Use: "set-password NAME", Short: "Change a user's password (the old one is kept as previous for a while)", Args: cobra.ExactArgs(1)}
	withStore(setpw, func(cfg *config.Config, st accounts.Store, args []string) error {
		ctx := context.Background()
		if _, err := st.User(ctx, args[0]); err != nil {
			return usagef("no user %q; nothing was changed — list users with 'authgate users list' or add it with 'authgate users add %s'", args[0], args[0])
		}
		pw, err := readPassword(e, args[0])
		if err != nil {
			return err
		}
		h, err := passhash.Hash(pw, server.Argon2(cfg))
		if err != nil {
			return err
		}
		if err := st.SetPassword(ctx, args[0], h); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed; the previous one is recognised as password_previous for %s\n", args[0], config.FormatDuration(cfg.Passwords.KeepPrevious))
		return nil
	})

	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Import users from an htpasswd file or a YAML list, all or nothing",
		Long: `Imports users from an Apache/nginx htpasswd file (bcrypt $2y$, {SHA}, $apr1$
hashes) or from a YAML list:

  - name: alice
    password_hash: $argon2id$v=19$...   # or password: plain text, hashed on import
    scopes: [orders:read]

Files ending in .yaml or .yml are read as YAML. Every bad line is reported and
then nothing is imported.`,
		Args: cobra.ExactArgs(1),
	}
	replace := imp.Flags().Bool("replace", false, "update users that already exist")
	withStore(imp, func(cfg *config.Config, st accounts.Store, args []string) error {
		users, err := readImport(args[0], cfg)
		if err != nil {
			return usageError{err}
		}
		added, updated, err := st.ImportUsers(context.Background(), users, *replace)
		if err != nil {
			return usageError{fmt.Errorf("%s: %w", args[0], err)}
		}
		fmt.Fprintf(e.stdout, "%s: %d user(s) added, %d updated\n", args[0], added, updated)
		return nil
	})

	list := &cobra.Command{Use: "list", Short: "List users", Args: cobra.NoArgs}
	withStore(list, func(_ *config.Config, st accounts.Store, _ []string) error {
		users, err := st.Users(context.Background())
		if err != nil {
			return err
		}
		return listUsers(e.stdout, users, time.Now())
	})

	del := &cobra.Command{Use: "delete NAME", Short: "Delete a user", Args: cobra.ExactArgs(1)}
	withStore(del, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.DeleteUser(context.Background(), args[0]); err != nil {
			return usageError{err}
		}
		fmt.Fprintf(e.stdout, "user %s deleted\n", args[0])
		return nil
	})

	c.AddCommand(add, setpw, imp, list, del)
	c.AddCommand(userStateCmds(e)...)
	return c
}

// readImport reads users to import from an htpasswd file or a YAML list.
func readImport(path string, cfg *config.Config) ([]accounts.ImportedUser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !strings.HasSuffix(path, ".yaml") && !strings.HasSuffix(path, ".yml") {
		entries, err := htpasswd.Parse(f, path)
		if err != nil {
			return nil, err
		}
		out := make([]accounts.ImportedUser, len(entries))
		for i, en := range entries {
			out[i] = accounts.ImportedUser{Line: en.Line, Name: en.User, Hash: en.Hash}
		}
		return out, nil
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(f).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML: %v", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: expected a YAML list of users (- name: alice ...)", path)
	}
	var out []accounts.ImportedUser
	var problems []string
	for _, n := range doc.Content[0].Content {
		var u struct {
			Name         string   `yaml:"name"`
			PasswordHash string   `yaml:"password_hash"`
			Password     string   `yaml:"password"`
			Scopes       []string `yaml:"scopes"`
		}
		if err := n.Decode(&u); err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %v — each entry needs name, and password_hash or password", path, n.Line, err))
			continue
		}
		hash := u.PasswordHash
		switch {
		case hash != "" && u.Password != "":
			problems = append(problems, fmt.Sprintf("%s:%d: user %q has both password and password_hash — keep one", path, n.Line, u.Name))
			continue
		case u.Password != "":
			if hash, err = passhash.Hash(u.Password, server.Argon2(cfg)); err != nil {
				return nil, err
			}
		}
		out = append(out, accounts.ImportedUser{Line: n.Line, Name: u.Name, Hash: hash, Scopes: u.Scopes})
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("nothing was imported:\n  %s", strings.Join(problems, "\n  "))
	}
	return out, nil
}
