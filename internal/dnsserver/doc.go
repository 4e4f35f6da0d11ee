// Package dnsserver is the authoritative DNS server behind dadns's builtin
// backend. It serves a set of zones from an immutable snapshot that Apply
// replaces atomically, and answers as BIND 9.18 does with its default
// configuration and recursion off; the differential test in this package
// checks that against a real named, record for record.
//
// What "as BIND does" means in practice (each point was observed on
// named 9.18 and is covered by the differential test):
//
//   - The most specific hosted zone answers; a DS query for the apex of a
//     hosted zone goes to its hosted parent. No zone: REFUSED without AA.
//   - Referrals carry the cut's NS RRset and, as additional data, only
//     glue (addresses below a cut of the same zone). DS and NSEC queries
//     for the cut itself are answered by the parent side.
//   - CNAME and DNAME chains are followed inside the zone they started in,
//     for at most 12 lookups; a loop or a longer chain is SERVFAIL with
//     what was collected. A chain that leaves the zone ends with no
//     authority section.
//   - Positive answers carry the apex NS RRset in authority unless RD was
//     set (minimal-responses no-auth-recursive), the type is DS, DNSKEY,
//     CDS or CDNSKEY, or the EDNS buffer is 512 bytes or less (then the
//     answer is minimal). Additional data: the in-zone addresses of NS, MX,
//     SRV, AFSDB, RT, KX, SVCB and HTTPS targets (wildcards included), SRV
//     for "S" NAPTRs, skipped for RRsets of more than 13 records.
//   - ANY returns every RRset of the name (minimal-any is off in 9.18),
//     with no additional data.
//   - Negative answers carry the SOA with TTL min(TTL, MINIMUM), or 0 for
//     an NXDOMAIN answer to an SOA query; with DO, the NSEC or NSEC3
//     proofs of RFC 4035 and RFC 5155 (NSEC3 opt-out included).
//   - UDP answers are limited to 512 bytes without EDNS and to the
//     client's buffer (at least 512, at most 1232) with it; a truncated
//     answer keeps the records that fit without EDNS and only the question
//     with it.
//
// Deliberate differences from BIND: NOTIFY and UPDATE get NOTIMP, zone
// transfers are refused, and names are
// compressed case-insensitively.
//
// Memory: zones are kept packed (uncompressed wire records and a sorted
// list of name hashes), one copy per process shared by every Server; the
// lookup index is decoded on demand for a bounded set of zones (see
// packed.go and the README).
//
// Speed: answers for names that exist are cached per zone in packed form,
// and answers for names that do not exist once per closest encloser; a
// change to one zone drops only its own cached answers (and those of the
// zones enclosing a zone added or removed). On every address (wildcard ones included, where each reply leaves
// from the address its query was sent to), UDP is served by a
// recvmmsg/sendmmsg loop per SO_REUSEPORT socket that answers cache hits
// straight from the packet: a fixed number of goroutines, whatever the
// load. A wildcard listener also binds its port on each of the host's
// addresses, whose packets then need no control message (addrsockets.go).
// On Linux the loop makes its own raw recvmmsg/sendmmsg calls, allocating
// nothing per packet (mmsg_linux.go), and looks a whole batch up before
// answering it, so that the cache misses of its packets overlap (udp.go).
package dnsserver
