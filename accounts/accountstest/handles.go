package accountstest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// testSecondHandle writes through one handle, as the CLI does, and reads
// through another, as a running gateway does, then the other way round.
func testSecondHandle(t *testing.T, e *env) {
	cli, gateway := e.s, e.again()
	ctx := e.ctx

	must(t, cli.AddUser(ctx, "Aladdin", hash(t, "a"), []string{"read"}))
	must(t, cli.SetPassword(ctx, "Aladdin", hash(t, "b")))
	must(t, cli.LockUser(ctx, "Aladdin", e.clock.Now().Add(time.Hour), "5 failures"))
	must(t, cli.RequirePasswordChange(ctx, "Aladdin"))
	must(t, cli.AddUser(ctx, "bob", hash(t, "c"), nil))
	must(t, cli.SetUserDisabled(ctx, "bob", true))
	first, err := cli.CreateKey(ctx, "ci", []string{"deploy"}, e.clock.Now().Add(time.Hour))
	must(t, err)
	second, err := cli.RotateKey(ctx, first.ID, time.Minute)
	must(t, err)
	must(t, cli.SetKeyDisabled(ctx, second.ID, true))

	// Lookups answer from the snapshot, which only a reload updates.
	if _, err := gateway.User(ctx, "Aladdin"); !errors.Is(err, authgate.ErrNotFound) {
		t.Fatalf("the gateway saw the user before refreshing: %v", err)
	}
	must(t, gateway.Refresh(ctx))
	sameLookups(t, cli, gateway, []string{"Aladdin", "bob"}, []string{first.ID, second.ID})

	_, err = gateway.UnlockUser(ctx, "Aladdin")
	must(t, err)
	must(t, gateway.DeleteUser(ctx, "bob"))
	must(t, gateway.RevokeKey(ctx, second.ID))
	e.clock.Advance(time.Minute)
	must(t, gateway.SetPassword(ctx, "Aladdin", hash(t, "d")))
	if k := key(t, cli, second.ID); k.State != authgate.KeyActive {
		t.Fatalf("the CLI saw the revocation before refreshing: key is %s", k.State)
	}
	must(t, cli.Refresh(ctx))
	sameLookups(t, gateway, cli, []string{"Aladdin", "bob"}, []string{first.ID, second.ID})

	// Users and Keys read afresh, without an explicit Refresh.
	iss, err := cli.CreateKey(ctx, "backup", nil, time.Time{})
	must(t, err)
	if got := dump(t, gateway).Keys; len(got) != 3 || got[2].ID != iss.ID {
		t.Errorf("Keys on the other handle does not list the new key %s: %+v", iss.ID, got)
	}
	if diff := cmp.Diff(dump(t, cli), dump(t, gateway), options); diff != "" {
		t.Errorf("the two handles read different contents (-writer +reader):\n%s", diff)
	}
	if err := gateway.Healthy(); err != nil {
		t.Errorf("Healthy = %v", err)
	}
}

// sameLookups checks that reader's lookups answer what writer's do, for
// users called names and keys with ids (both present or both not found).
func sameLookups(t *testing.T, writer, reader accounts.Store, names, ids []string) {
	t.Helper()
	ctx := t.Context()
	for _, name := range names {
		want, wantErr := writer.User(ctx, name)
		got, err := reader.User(ctx, name)
		if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
			t.Errorf("user %q: error %v, the writing handle says %v", name, err, wantErr)
		}
		if diff := cmp.Diff(want, got, options); diff != "" {
			t.Errorf("user %q (-writer +reader):\n%s", name, diff)
		}
	}
	for _, id := range ids {
		want, wantErr := writer.APIKey(ctx, id)
		got, err := reader.APIKey(ctx, id)
		if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
			t.Errorf("key %s: error %v, the writing handle says %v", id, err, wantErr)
		}
		if diff := cmp.Diff(want, got, options); diff != "" {
			t.Errorf("key %s (-writer +reader):\n%s", id, diff)
		}
	}
}
