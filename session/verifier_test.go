package session_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/session"
	"github.com/authgate/authgate/session/sessiontest"
)

// users is a UserStore of fixed users.
type users map[string]authgate.User

func (u users) User(_ context.Context, name string) (authgate.User, error) {
	if user, ok := u[name]; ok {
		return user, nil
	}
	return authgate.User{}, authgate.ErrNotFound
}

// signOutAfterGet is a store on which every session is deleted right after
// it is read, as when the user signs out in another tab while a request
// made with the session is between its lookup and its touch.
type signOutAfterGet struct{ session.Store }

func (s signOutAfterGet) Get(ctx context.Context, id string) (session.Session, error) {
	got, err := s.Store.Get(ctx, id)
	if err == nil {
		err = s.Store.Delete(ctx, id)
	}
	return got, err
}

// verifierFixture returns a verifier on st whose clock is 10 minutes after
// the start of the session it saved, with its cookie token: late enough
// that a request touches it.
func verifierFixture(t *testing.T, st session.Store, clock *sessiontest.Clock) (*session.Verifier, string, session.Session) {
	t.Helper()
	token, id, err := session.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	s := session.Session{ID: id, User: "alice", CreatedAt: sessiontest.T0, LastSeen: sessiontest.T0}
	v := session.NewVerifier(st, users{"alice": {Name: "alice"}}, session.VerifierOptions{
		IdleTimeout: time.Hour, AbsoluteTimeout: 8 * time.Hour, Now: clock.Now})
	if err := st.Save(context.Background(), s, v.StoreUntil(s.CreatedAt)); err != nil {
		t.Fatal(err)
	}
	clock.Set(10 * time.Minute)
	return v, token, s
}

func TestVerifierRecordsTheLastUseAndKeepsTheExpiry(t *testing.T) {
	clock := sessiontest.NewClock()
	st := session.NewMemory(session.MemoryOptions{Now: clock.Now})
	v, token, s := verifierFixture(t, st, clock)
	ctx := context.Background()
	vd, err := v.Verify(ctx, authgate.Credential{Method: authgate.MethodSession, Secret: token})
	if err != nil || vd.Reason != "" {
		t.Fatalf("Verify = %s, %v; want the session accepted", vd.Reason, err)
	}
	got, err := st.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := sessiontest.T0.Add(10 * time.Minute); !got.LastSeen.Equal(want) {
		t.Errorf("LastSeen after a request = %v, want %v", got.LastSeen, want)
	}
	clock.Set(9 * time.Hour)
	if _, err := st.Get(ctx, s.ID); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get an hour after the absolute timeout: %v, want ErrNotFound (the touch extended the session)", err)
	}
}

func TestVerifierDoesNotBringBackASessionSignedOutDuringTheRequest(t *testing.T) {
	clock := sessiontest.NewClock()
	st := session.NewMemory(session.MemoryOptions{Now: clock.Now})
	v, token, s := verifierFixture(t, signOutAfterGet{st}, clock)
	ctx := context.Background()
	vd, err := v.Verify(ctx, authgate.Credential{Method: authgate.MethodSession, Secret: token})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got, err := st.Get(ctx, s.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the session signed out during the request is back (LastSeen %v, error %v)", got.LastSeen, err)
	}
	var touch *authgate.Check
	for i, c := range vd.Checks {
		if c.Name == "session.touch" {
			touch = &vd.Checks[i]
		}
	}
	if touch == nil || touch.Result != authgate.Info {
		t.Errorf("checks %+v: want a session.touch step saying the last use was not recorded", vd.Checks)
	}
}
