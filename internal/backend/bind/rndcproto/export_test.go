package rndcproto

// KeptLocalAddr returns the local address of c's kept connection, "" when
// none is kept.
func KeptLocalAddr(c *Client) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idle == nil {
		return ""
	}
	return c.idle.conn.LocalAddr().String()
}
