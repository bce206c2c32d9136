package password

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
)

// Upgrader is where a user's hash, made again, is stored:
// accounts.Store. User says whether the hash a password matched is the
// one it keeps (a user read from a users file is not there).
type Upgrader interface {
	authgate.UserStore
	UpgradePasswordHash(ctx context.Context, name, old, updated string) (bool, error)
}

// upgradeTimeout bounds an upgrade: waiting for a hashing slot, the hash,
// and the store's write.
const upgradeTimeout = time.Minute

// upgradeCheck returns the trace's word on upgrading the hash a password
// of user u has just matched, and starts the upgrade when it is due: the
// hash is outdated (passhash.Outdated), kept by the Upgrader, and not
// already being made again. It returns no check while there is nothing to
// say (the hash is current, or upgrades are off).
func (v *Verifier) upgradeCheck(u authgate.User, password string, id [sha256.Size]byte) (authgate.Check, bool) {
	old := u.PasswordHash
	if v.opts.Upgrade == nil || !passhash.Outdated(old, v.opts.Argon2) {
		return authgate.Check{}, false
	}
	from, to := passhash.Describe(old), v.opts.Argon2.String()
	switch kept, err := v.opts.Upgrade.User(context.Background(), u.Name); {
	case errors.Is(err, authgate.ErrNotFound):
		return authgate.Check{Name: "password.upgrade", Result: authgate.Skip,
			Detail: fmt.Sprintf("the hash is %s, not %s, but it comes from the users file, which authgate does not write: hash it again there, or import the user", from, to)}, true
	case err != nil || kept.PasswordHash != old:
		return authgate.Check{}, false // changed meanwhile: the next sign-in sees the new hash
	}
	check := authgate.Check{Name: "password.upgrade", Result: authgate.Info,
		Detail: fmt.Sprintf("the hash is %s, not %s (passwords.argon2): it is made again in the background", from, to)}
	if _, busy := v.upgrading.LoadOrStore(u.Name, true); busy {
		check.Detail = fmt.Sprintf("the hash is %s, not %s (passwords.argon2): an earlier sign-in is making it again", from, to)
		return check, true
	}
	v.upgradeMu.Lock()
	defer v.upgradeMu.Unlock()
	if v.closed {
		v.upgrading.Delete(u.Name)
		return authgate.Check{}, false
	}
	v.upgrades.Add(1)
	go func() {
		defer v.upgrades.Done()
		defer v.upgrading.Delete(u.Name)
		v.upgrade(u.Name, old, password, id, from, to)
	}()
	return check, true
}

// upgrade makes the hash of name's password again with Options.Argon2 and
// stores it in place of old, unless old has been replaced meanwhile.
func (v *Verifier) upgrade(name, old, password string, id [sha256.Size]byte, from, to string) {
	ctx, cancel := context.WithTimeout(v.upgradeCtx, upgradeTimeout)
	defer cancel()
	log := v.opts.Logger.With("user", authgate.LoggableName(name), "from", from, "to", to)
	// A slot as sign-ins get one, but without their queue_timeout (the
	// sign-in that started this still holds one) and without counting
	// among the checks waiting, which make failed ones skip slips.
	select {
	case v.sem <- struct{}{}:
	case <-ctx.Done():
		log.Info("password hash not upgraded this time: no hashing slot came free; the next sign-in tries again", "error", ctx.Err())
		return
	}
	var updated string
	var err error
	v.onHashThread(func() { updated, err = v.makeHash(password, v.opts.Argon2) })
	v.release()
	if err != nil {
		log.Warn("password hash not upgraded", "error", err)
		return
	}
	if ctx.Err() != nil {
		log.Info("password hash not upgraded: the gateway is stopping; the next sign-in upgrades it")
		return
	}
	replaced, err := v.opts.Upgrade.UpgradePasswordHash(ctx, name, old, updated)
	switch {
	case err != nil:
		log.Warn("password hash not upgraded: the store refused it; the next sign-in tries again", "error", err)
	case replaced:
		v.cache.put(id, updated)
		log.Info("password hash upgraded")
	default:
		log.Info("password hash not upgraded: it changed meanwhile (a new password, or another gateway upgraded it)")
	}
}

// Close stops the upgrades in progress and waits for them to return: at
// most one hash each, as the hashes they are waiting to make or to store
// are given up. None starts afterwards. A hash given up stays as it was,
// and the next sign-in (on any gateway) upgrades it.
func (v *Verifier) Close() {
	v.upgradeMu.Lock()
	v.closed = true
	v.upgradeMu.Unlock()
	v.stopUpgrades()
	v.upgrades.Wait()
	v.proc.close()
}

// discard is the Logger of a verifier given none.
var discard = slog.New(slog.DiscardHandler)
