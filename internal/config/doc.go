// Package config loads dadns's configuration: an app.yml in the shape of the
// Python directdnsonly's (same key names, same search path), then DADNS_
// environment overrides, then validation that reports every problem at once.
//
// # Files
//
// Load reads LoadOptions.File when given (it must exist), otherwise the first
// of /etc/directdnsonly, . and ./config that holds app.yml (or app.yaml, as
// the Python version also accepted). No file at all is fine: dadns then runs
// on defaults, keeping its state in ./data, answering DirectAdmin on port
// 2222 and serving DNS from one builtin backend on 127.0.0.1:5353.
//
// # Backends
//
// dns.backends maps instance names ([a-z0-9_]+) to settings; every instance
// needs a type. The default builtin instance exists only while nothing else
// defines instances: when the file has a dns.backends section, or the
// environment creates an instance with DADNS_DNS_BACKENDS_<NAME>_TYPE, those
// instances replace the default set. An operator who configures bind gets
// bind only; one who wants the builtin server next to it lists it too.
//
// # Environment
//
// Every key can be overridden by DADNS_ followed by its upper-cased path with
// "." replaced by "_": DADNS_APP_AUTH_PASSWORD, DADNS_LOG_LEVEL,
// DADNS_DNS_BACKENDS_BIND_ENABLED. Because key and instance names contain
// underscores themselves, a variable is resolved against the known key tree:
// under dns.backends the longest defined instance name that leaves a valid
// setting wins. DADNS_DNS_BACKENDS_<NAME>_TYPE creates instance <name> (or
// changes its type). List entries are addressed by a 0-based index
// (DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_0_PASSWORD, which may also add
// entries); a list of strings is written comma-separated. app.owner_aliases
// can only be set in the file. A DADNS_ variable that matches no key is an
// error, like an unknown key in the file.
//
// # Types
//
// Values are parsed with the key's type whether they come from the file or
// the environment: booleans accept true/false, yes/no, on/off and 1/0; whole
// numbers may be quoted; file modes are octal digits ("0644"). An empty
// value in the file (key: or key: ~) leaves the default.
package config
