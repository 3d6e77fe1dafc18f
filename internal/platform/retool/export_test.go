package retool

import (
	"context"
	"time"
)

// SetClock replaces the client's clock (tests drive it virtually).
func SetClock(c *Client, now func() time.Time, sleep func(context.Context, time.Duration) error) {
	c.now, c.sleep = now, sleep
}
