package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"go.yaml.in/yaml/v3"
)

var redisSpec = sectionSpec{where: "in redis", prefix: "redis.",
	keys: []string{"address", "username", "password", "password_file", "db", "timeout"},
	elsewhere: map[string]string{
		"host": "in address:, written host:port", "port": "in address:, written host:port",
		"url": "in address:, written host:port", "database": "in db:, as a number",
		"prefix": "under throttle: or sessions:", "store": "under throttle: or sessions:",
	},
	example: "redis: {address: 127.0.0.1:6379}"}

const redisAddressExample = "127.0.0.1:6379"

// redis reads the redis section; line is the line of its key, for the
// complaint that it has no address. Without the section it returns the
// zero Redis.
func (d *decoder) redis(s *section, line int) Redis {
	if s.line == 0 {
		return Redis{}
	}
	r := Redis{
		DB:      s.integer("db", DefaultRedisDB, 0, 1000, "0"),
		Timeout: s.duration("timeout", DefaultRedisTimeout, time.Millisecond, 10*time.Second),
	}
	switch v, n := s.str("address", redisAddressExample); {
	case n != nil:
		if !d.report(n.Line, checkRedisAddress(v)) {
			r.Address = v
		}
	case !s.has("address"):
		d.add(line, "add address: host:port, e.g. redis: {address: "+redisAddressExample+"}", "redis has no address")
	}
	if v, n := s.str("username", "authgate"); n != nil {
		if v == "" {
			d.add(n.Line, "name the Redis ACL user, or leave username out for the default user", "redis.username is empty")
		}
		r.Username = v
	}
	r.Password = d.redisPassword(s)
	return r
}

// redisPassword reads redis.password or redis.password_file. No message
// shows the password.
func (d *decoder) redisPassword(s *section) string {
	pw, pwNode := s.str("password", "a long random string")
	file, fileNode := s.str("password_file", "/etc/authgate/redis-password")
	switch {
	case pwNode != nil && fileNode != nil:
		d.add(fileNode.Line, "keep one of the two", "redis.password and redis.password_file are both set")
	case fileNode != nil:
		return d.secretFile("redis.password_file", file, fileNode.Line)
	case pwNode != nil && pw == "":
		d.add(pwNode.Line, "leave password out when Redis asks for none, or write it, preferably in redis.password_file", "redis.password is empty")
	case pwNode != nil:
		return pw
	}
	return ""
}

// checkRedisAddress checks a host:port Redis address. The address may be a
// URL holding a password, so no message repeats it unless it has no
// credentials in it.
func checkRedisAddress(s string) problem {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return problem{"redis.address is a URL, not host:port", "write only host:port, e.g. address: " + redisAddressExample}
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "6379")
		}
		var moves []string
		if _, ok := u.User.Password(); ok {
			moves = append(moves, "the password in redis.password_file")
		} else if u.User != nil && u.User.Username() != "" {
			moves = append(moves, "the user name in redis.username")
		}
		if db := strings.Trim(u.Path, "/"); db != "" {
			moves = append(moves, "the database number in redis.db")
		}
		fix := "write only host:port: address: " + host
		if len(moves) > 0 {
			fix += ", and put " + strings.Join(moves, " and ")
		}
		return problem{"redis.address is a URL, not host:port", fix}
	}
	if strings.Contains(s, "@") {
		return problem{"redis.address holds a user name or password", "write only host:port, e.g. address: " + redisAddressExample + ", and put the credentials in redis.username and redis.password_file"}
	}
	if s == "" {
		return problem{"redis.address is empty", "write host:port, e.g. address: " + redisAddressExample}
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		fix := "write host:port, e.g. address: " + redisAddressExample
		if !strings.Contains(strings.Trim(s, "[]"), ":") {
			fix = "add the port: address: " + net.JoinHostPort(s, "6379")
		}
		if _, perr := strconv.Atoi(s); perr == nil {
			fix = "name the host too: address: 127.0.0.1:" + s
		}
		return problem{fmt.Sprintf("redis.address %q is not a host:port address", s), fix}
	}
	if host == "" {
		return problem{fmt.Sprintf("redis.address %q has no host", s), "name the host: address: 127.0.0.1:" + port}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return problem{fmt.Sprintf("redis.address %q has port %q, which is not a number from 1 to 65535", s, port), "write host:port, e.g. address: " + redisAddressExample}
	}
	return problem{}
}

// checkRedisUse relates throttle.store and sessions.store to the redis
// section: a Redis store needs a server, and a server nothing uses is most
// likely a forgotten store: redis.
func (d *decoder) checkRedisUse(c *Config, top, throttle, sessions *section) {
	redisSet := top.has("redis")
	const addRedis = "add a redis: section at the top level, e.g. redis: {address: " + redisAddressExample + "}, or use "
	if c.Throttle.Store == ThrottleRedis && !redisSet {
		d.add(throttle.keyLine("store"), addRedis+"throttle.store: memory", "throttle.store is redis but no Redis server is configured")
	}
	if c.Sessions.Store == SessionsRedis && !redisSet {
		d.add(sessions.keyLine("store"), addRedis+"sessions.store: memory (each gateway then keeps its own sessions)",
			"sessions.store is redis but no Redis server is configured")
	}
	if c.Throttle.Store == ThrottleRedis && c.Sessions.Store == SessionsRedis && c.Throttle.Prefix == c.Sessions.Prefix {
		line := sessions.keyLine("prefix")
		if line == 0 {
			line = throttle.keyLine("prefix")
		}
		d.add(line, "give each its own prefix, e.g. sessions.prefix: "+DefaultSessionsPrefix+" and throttle.prefix: "+DefaultThrottlePrefix,
			"sessions.prefix and throttle.prefix are both %q, so sessions and failure counters would share Redis keys", c.Sessions.Prefix)
	}
	if !redisSet || c.Throttle.Store == ThrottleRedis || c.Sessions.Store == SessionsRedis ||
		wrongStore(throttle, throttleStores) || wrongStore(sessions, sessionStores) {
		return // Redis is used, or not set, or a store is wrong and already reported
	}
	why, fix := storeWithoutRedis("throttle", throttle, top)
	if sessionsUsed(c) {
		w, f := storeWithoutRedis("sessions", sessions, top)
		why, fix = why+" and "+w, fix+", or "+f
	}
	d.add(top.keyLine("redis"), fix+", or remove redis:", "redis: is set but nothing uses Redis: %s", why)
}

// wrongStore reports whether the store key of s holds a value outside
// valid.
func wrongStore(s *section, valid []string) bool {
	n := s.node("store")
	return n != nil && (n.Kind != yaml.ScalarNode || !contains(valid, n.Value))
}

// storeWithoutRedis says why the section called name uses no Redis (its
// store is memory) and how to make it use Redis.
func storeWithoutRedis(name string, s, top *section) (why, fix string) {
	switch {
	case s.has("store"):
		return fmt.Sprintf("%s.store is memory", name), fmt.Sprintf("change %s.store (line %d) to redis", name, s.keyLine("store"))
	case s.line > 0:
		return fmt.Sprintf("%s.store is memory by default", name), fmt.Sprintf("add store: redis under %s: (line %d)", name, top.keyLine(name))
	default:
		return fmt.Sprintf("%s.store is memory by default", name), fmt.Sprintf("add %s: {store: redis}", name)
	}
}

// sessionsUsed reports whether a route accepts session, so that the
// portal's sessions are kept somewhere.
func sessionsUsed(c *Config) bool {
	for _, r := range c.Routes {
		if r.Accepts(authgate.MethodSession) {
			return true
		}
	}
	return false
}
