package mysqldb

import (
	"crypto/md5" //nolint:gosec // a checksum of rows, not a security boundary
	"database/sql"
	"encoding/binary"
	"strconv"
	"strings"
)

// Digest is a compact summary of a multiset of rows that MariaDB computes
// from the tables (DigestSQL) and a backend from the rows it wrote, so
// that Verify compares two numbers per zone instead of reading every row
// back: the number of rows, and the sum modulo 2^64 of a 64-bit hash of
// each (the first 8 bytes of the MD5 of its fields, each prefixed with
// its length). Equal digests mean the same rows, but for a chance of
// about 2^-64; different digests prove nothing about why (the backend
// then reads the rows to say). The zero Digest is that of no rows.
type Digest struct {
	Rows int64
	Sum  uint64
}

// DigestRow builds one row's hash, field by field, in the order of
// DigestSQL's columns. Only ASCII text is hashed as MariaDB would hash it
// whatever the column's character set; a row with other bytes makes the
// digest Unsure.
type DigestRow struct {
	buf    []byte
	unsure bool
}

// Str adds a text field.
func (r *DigestRow) Str(s string) {
	for i := range len(s) {
		if s[i] >= 0x80 {
			r.unsure = true
			break
		}
	}
	r.buf = strconv.AppendInt(r.buf, int64(len(s)), 10)
	r.buf = append(r.buf, ':')
	r.buf = append(r.buf, s...)
}

// Int adds an integer field.
func (r *DigestRow) Int(n int64) {
	var tmp [24]byte
	digits := strconv.AppendInt(tmp[:0], n, 10)
	r.buf = strconv.AppendInt(r.buf, int64(len(digits)), 10)
	r.buf = append(r.buf, ':')
	r.buf = append(r.buf, digits...)
}

// End adds the row built so far to d and starts the next one. It
// returns false (and d is not to be trusted) when the row held bytes
// MariaDB might hash differently.
func (r *DigestRow) End(d *Digest) bool {
	h := md5.Sum(r.buf) //nolint:gosec // see Digest
	d.Rows++
	d.Sum += binary.BigEndian.Uint64(h[:8])
	ok := !r.unsure
	r.buf, r.unsure = r.buf[:0], false
	return ok
}

// DigestSQL returns the two select expressions, row count then sum, of
// the digest of the rows grouped by the query, whose fields are the SQL
// expressions cols (each never NULL: map NULL to the value the backend
// reads it as); present is an expression true for a row that exists (in
// a LEFT JOIN, say "r.id IS NOT NULL"). Scan them into Rows and a
// string for ParseDigestSum.
func DigestSQL(present string, cols ...string) string {
	var b strings.Builder
	b.WriteString("CONCAT(")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("LENGTH(" + c + "), ':', " + c)
	}
	b.WriteString(")")
	term := "CAST(CONV(LEFT(MD5(" + b.String() + "), 16), 16, 10) AS UNSIGNED)"
	return "SUM(CASE WHEN " + present + " THEN 1 ELSE 0 END), " +
		"CAST(COALESCE(SUM(CASE WHEN " + present + " THEN " + term + " ELSE 0 END), 0) MOD 18446744073709551616 AS CHAR)"
}

// ParseDigestSum parses the sum DigestSQL selects.
func ParseDigestSum(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }

// ScanDigests reads the rows of a query selecting a zone's name, then
// DigestSQL's two columns, per zone: the digests by lower-case name, and
// the names found more than once (whose digests mean nothing).
func ScanDigests(rows *sql.Rows) (have map[string]Digest, twice map[string]bool, err error) {
	have, twice = map[string]Digest{}, map[string]bool{}
	for rows.Next() {
		var name, sum string
		var d Digest
		if err := rows.Scan(&name, &d.Rows, &sum); err != nil {
			return nil, nil, err
		}
		if d.Sum, err = ParseDigestSum(sum); err != nil {
			return nil, nil, err
		}
		name = strings.ToLower(name)
		if _, seen := have[name]; seen {
			twice[name] = true
		}
		have[name] = d
	}
	return have, twice, rows.Err()
}
