package nsd

import "context"

// Probe reports whether NSD answers on its control channel: "nsd-control
// status" exits 0 and names NSD's version. It changes nothing.
func (b *Backend) Probe(ctx context.Context) error {
	return b.ctl.status(ctx)
}
