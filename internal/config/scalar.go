package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// setScalar parses text with v's type and stores it in v. The message of the
// returned error says what to write instead.
func setScalar(v reflect.Value, text string) error {
	s := strings.TrimSpace(text)
	switch {
	case v.Type() == fileModeType:
		return setFileMode(v, s)
	case v.Kind() == reflect.String:
		v.SetString(text)
		return nil
	case v.Kind() == reflect.Bool:
		b, err := parseBool(s)
		v.SetBool(b)
		return err
	case v.Kind() == reflect.Int || v.Kind() == reflect.Int64:
		return setInt(v, s)
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number; write a decimal such as 0.1", text)
		}
		v.SetFloat(f)
		return nil
	}
	return fmt.Errorf("unsupported type %s", v.Type())
}

// parseBool accepts the spellings YAML 1.1 and the Python version accepted.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1", "y":
		return true, nil
	case "false", "no", "off", "0", "n":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false", s)
}

func setInt(v reflect.Value, s string) error {
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err == nil && v.OverflowInt(n) {
		err = strconv.ErrRange
	}
	if errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("%s is too large", s)
	}
	if err != nil {
		return fmt.Errorf("%q is not a whole number; write digits only, such as 2222", s)
	}
	v.SetInt(n)
	return nil
}

func setFileMode(v reflect.Value, s string) error {
	digits := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || n > 0o7777 {
		return fmt.Errorf("%q is not a file mode; write octal digits such as \"0644\"", s)
	}
	v.SetUint(n)
	return nil
}
