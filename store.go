package authgate

import (
	"context"
	"time"
)

// User is an account that signs in with a password.
type User struct {
	Name string
	// PasswordHash is a PHC string ($argon2id$...), a bcrypt hash, or an
	// htpasswd hash ({SHA}, $apr1$).
	PasswordHash string
	// Previous holds the hashes this user's password had before its last
	// changes, newest first, kept for a configurable period so an old
	// password still in use is recognised.
	Previous          []PreviousPassword
	Scopes            []string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

// PreviousPassword is a password hash that was replaced at ReplacedAt.
type PreviousPassword struct {
	Hash       string
	ReplacedAt time.Time
}

// KeyState is the lifecycle state of an API key.
type KeyState string

// API key states.
const (
	KeyActive  KeyState = "active"
	KeyRevoked KeyState = "revoked"
	KeyRotated KeyState = "rotated" // replaced by Successor; valid until OverlapUntil
)

// APIKey is a stored API key. Only a hash of its secret is kept.
type APIKey struct {
	ID           string
	Owner        string
	SecretHash   []byte // SHA-256 of the secret part
	Scopes       []string
	State        KeyState
	Successor    string
	CreatedAt    time.Time
	ExpiresAt    time.Time // zero: never
	RotatedAt    time.Time
	OverlapUntil time.Time
	RevokedAt    time.Time
}

// UserStore looks users up. User returns ErrNotFound for an unknown name and
// another error when the store cannot answer.
type UserStore interface {
	User(ctx context.Context, name string) (User, error)
}

// KeyStore looks API keys up. APIKey returns ErrNotFound for an unknown id
// and another error when the store cannot answer.
type KeyStore interface {
	APIKey(ctx context.Context, id string) (APIKey, error)
}
