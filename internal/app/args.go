package app

import (
	"fmt"
	"strings"
)

// cmdLine is a command line taken apart: the global flags, the command
// name, the command's flags and its other arguments, in their order.
type cmdLine struct {
	config     string
	help       bool
	cmd        string
	flags      []string // the command's flags, with their values
	positional []string // the command's other arguments
}

// commandArgs is what the command's flag set parses: its flags first, then
// "--" so that no argument is taken for a flag.
func (c cmdLine) commandArgs() []string {
	out := append([]string(nil), c.flags...)
	if c.help {
		out = append(out, "-help")
	}
	return append(append(out, "--"), c.positional...)
}

// splitArgs takes --config and --help from anywhere on the line, the
// first other word as the command, and sorts the rest into flags (with the
// value a non-boolean flag of any command takes) and arguments. After
// "--" every word is an argument.
func splitArgs(args []string) (cmdLine, error) {
	var c cmdLine
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest := args[i+1:]
			if c.cmd == "" && len(rest) > 0 {
				c.cmd, rest = rest[0], rest[1:]
			}
			c.positional = append(c.positional, rest...)
			break
		}
		name, value, hasValue, isFlag := flagWord(a)
		switch {
		case !isFlag && c.cmd == "":
			c.cmd = a
		case !isFlag:
			c.positional = append(c.positional, a)
		case name == "config":
			if !hasValue {
				if i+1 >= len(args) {
					return c, fmt.Errorf("flag needs an argument: --config")
				}
				i++
				value = args[i]
			}
			c.config = value
		case name == "h" || name == "help":
			c.help = true
		default:
			c.flags = append(c.flags, a)
			if !hasValue && takesValue(name) && i+1 < len(args) {
				i++
				c.flags = append(c.flags, args[i])
			}
		}
	}
	return c, nil
}

// flagWord parses "-name", "--name" or "--name=value".
func flagWord(a string) (name, value string, hasValue, isFlag bool) {
	if len(a) < 2 || a[0] != '-' {
		return "", "", false, false
	}
	name = strings.TrimPrefix(a[1:], "-")
	name, value, hasValue = strings.Cut(name, "=")
	return name, value, hasValue, name != ""
}

// takesValue reports whether some command has a non-boolean flag called
// name, so that the word after it is its value, not the command.
func takesValue(name string) bool {
	for n, c := range commands {
		fl := c.flagSet(n)
		c.define(fl)
		if f := fl.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				return true
			}
		}
	}
	return false
}
