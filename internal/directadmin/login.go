package directadmin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// loginPage reports whether a redirect points at DA's login page, the
// answer of installs that refuse Basic auth on non-API pages.
func (c *Client) loginPage(resp *http.Response) bool {
	loc, err := resp.Location()
	if err != nil {
		return false
	}
	return strings.Contains(strings.ToLower(loc.Path), "login")
}

// session returns the session cookies, nil before a cookie login.
func (c *Client) session() []*http.Cookie {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cookie
}

// login posts the credentials to CMD_LOGIN and keeps the session cookie.
func (c *Client) login(ctx context.Context) error {
	form := url.Values{
		"username": {c.opt.Username},
		"password": {c.opt.Password},
		"referer":  {"/CMD_DNS_ADMIN?json=yes"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/CMD_LOGIN", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c.count("/CMD_LOGIN")
	resp, _, err := c.roundTrip(req)
	if err != nil {
		return fmt.Errorf("session login: %w", err)
	}
	cookies := resp.Cookies()
	if len(cookies) == 0 || resp.StatusCode >= 400 {
		return fmt.Errorf("%w: session login gave no cookie (HTTP %d); check the username and password", ErrUnexpected, resp.StatusCode)
	}
	c.mu.Lock()
	c.cookie = cookies
	c.mu.Unlock()
	return nil
}
