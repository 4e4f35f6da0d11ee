package view

import "testing"

func TestBackendState(t *testing.T) {
	cases := []struct {
		b    Backend
		want string
	}{
		{Backend{Alive: true}, StateOK},
		{Backend{Alive: true, Behind: 3}, StateBehind},
		{Backend{Alive: true, Behind: 3, Failing: 1}, StateFailing},
		{Backend{Alive: true, Permanent: 1}, StateFailing},
		{Backend{Alive: true, Failing: 1, Down: true}, StateDown},
		{Backend{Alive: true, PassError: "store: locked"}, StateDown},
		{Backend{Alive: false}, StateDown},
	}
	for _, c := range cases {
		if got := c.b.State(); got != c.want {
			t.Errorf("%+v: %s, want %s", c.b, got, c.want)
		}
	}
}
