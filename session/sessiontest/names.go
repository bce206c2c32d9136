package sessiontest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate/session"
)

func idsNotTokens(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	token, id, err := session.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if token == id {
		t.Fatal("NewToken returned the token as the id")
	}
	if got, ok := session.ID(token); !ok || got != id {
		t.Fatalf("ID(token) = %q, %v; want the id NewToken returned", got, ok)
	}
	s := newSession(t, "dave", 0)
	s.ID = id
	save(t, st, s, at(time.Hour))
	wantSession(t, st, s)
	wantGone(t, st, token, "by its token")
	if again, _ := session.ID(id); again == id {
		t.Error("ID(id) = id: an id must not name its own session")
	}
}

func invalid(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	ctx := context.Background()
	s := newSession(t, "erin", 0)
	noID, noUser := s, s
	noID.ID, noUser.User = "", ""
	for name, s := range map[string]session.Session{"no id": noID, "no user": noUser} {
		if err := st.Save(ctx, s, at(time.Hour)); !errors.Is(err, session.ErrInvalid) {
			t.Errorf("Save with %s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := st.UseCode(ctx, "", 1, at(time.Hour)); !errors.Is(err, session.ErrInvalid) {
		t.Errorf("UseCode without user: %v, want ErrInvalid", err)
	}
	if got := listOf(t, st, "erin"); len(got) != 0 {
		t.Errorf("List after refused saves: %v, want none", ids(got))
	}
}

func awkwardNames(t *testing.T, ns NewStore) {
	st, _ := fixture(t, ns)
	names := []string{"{x}", "x", "%7Bx%7D", "a{b}c", "a%3A1", "a:1", "a", "ünï{cödé}"}
	byUser := map[string]string{}
	for i, u := range names {
		s := newSession(t, u, time.Duration(i)*time.Second)
		save(t, st, s, at(time.Hour))
		byUser[u] = s.ID
	}
	for _, u := range names {
		if got := ids(listOf(t, st, u)); !cmp.Equal(got, []string{byUser[u]}) {
			t.Errorf("List(%q) = %v, want only its own session %s", u, got, byUser[u])
		}
	}
	// Every name's code of one step is its own: none of them may collide
	// in a key.
	ctx := context.Background()
	for _, u := range names {
		if first, err := st.UseCode(ctx, u, 2, at(time.Hour)); err != nil || !first {
			t.Errorf("UseCode(%q, 2) = %v, %v; want first", u, first, err)
		}
	}
	if n, err := st.DeleteUser(ctx, "{x}"); err != nil || n != 1 {
		t.Errorf("DeleteUser({x}) = %d, %v; want 1", n, err)
	}
	if got := listOf(t, st, "x"); len(got) != 1 {
		t.Errorf("List(x) after deleting {x}: %v, want its session", ids(got))
	}
}
