package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var redisSpec = sectionSpec{where: "in redis", prefix: "redis.",
	keys: []string{"address", "username", "password", "password_file", "db", "timeout"},
	elsewhere: map[string]string{
		"host": "in address:, written host:port", "port": "in address:, written host:port",
		"url": "in address:, written host:port", "database": "in db:, as a number",
		"prefix": "under throttle:", "store": "under throttle:",
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

// checkRedisUse relates throttle.store to the redis section: a Redis store
// needs a server, and a server nothing uses is most likely a forgotten
// throttle.store: redis.
func (d *decoder) checkRedisUse(c *Config, top, throttle *section) {
	redisSet, storeNode := top.has("redis"), throttle.node("store")
	switch {
	case c.Throttle.Store == ThrottleRedis && !redisSet:
		d.add(throttle.keyLine("store"), "add a redis: section at the top level, e.g. redis: {address: "+redisAddressExample+"}, or use throttle.store: memory",
			"throttle.store is redis but no Redis server is configured")
	case c.Throttle.Store == ThrottleRedis || !redisSet:
	case storeNode != nil && (storeNode.Kind != yaml.ScalarNode || !contains(throttleStores, storeNode.Value)):
		// throttle.store is wrong, and already reported.
	case storeNode != nil:
		d.add(top.keyLine("redis"), fmt.Sprintf("change throttle.store (line %d) to redis, or remove redis:", throttle.keyLine("store")),
			"redis: is set but nothing uses Redis: throttle.store is %s", c.Throttle.Store)
	case throttle.line > 0:
		d.add(top.keyLine("redis"), fmt.Sprintf("add store: redis under throttle: (line %d), or remove redis:", top.keyLine("throttle")),
			"redis: is set but nothing uses Redis: throttle.store is %s by default", c.Throttle.Store)
	default:
		d.add(top.keyLine("redis"), "add throttle: {store: redis} or remove redis:",
			"redis: is set but nothing uses Redis: throttle.store is %s by default", c.Throttle.Store)
	}
}
