package vnfpkgm

import (
	"flag"
	"fmt"
	"time"
)

// NotifyConfig configures subscriptions and the delivery of notifications.
type NotifyConfig struct {
	Workers      int           // subscriptions delivered to at once by this process
	MaxAttempts  int           // a notification is dropped after this many failed attempts
	MaxAge       time.Duration // ... or once it is this old
	BackoffMin   time.Duration // delay after the first failure; doubles with each failure
	BackoffMax   time.Duration // longest delay between two attempts
	Timeout      time.Duration // one POST of a notification, or the callback test
	PollInterval time.Duration // how often the shared outbox is looked at (changes made by other replicas)
	// CallbackDeny are further addresses callbacks may never reach, on top
	// of the egress policy; link-local and metadata addresses are always
	// denied to callbacks, whatever --egress-allow says.
	CallbackDeny string
	// SecretsKeyFile holds the key that seals the callback credentials in
	// the database (created when missing); default DATA_DIR/secrets.key.
	// Replicas over one database share it.
	SecretsKeyFile string
}

func defaultNotifyConfig() NotifyConfig {
	return NotifyConfig{
		Workers:      4,
		MaxAttempts:  20,
		MaxAge:       24 * time.Hour,
		BackoffMin:   time.Second,
		BackoffMax:   5 * time.Minute,
		Timeout:      10 * time.Second,
		PollInterval: time.Second,
	}
}

func registerNotifyFlags(fs *flag.FlagSet, c *NotifyConfig) {
	fs.IntVar(&c.Workers, "notify-workers", c.Workers, "subscriptions this process delivers notifications to at once")
	fs.IntVar(&c.MaxAttempts, "notify-max-attempts", c.MaxAttempts, "a notification its subscriber keeps refusing is dropped after this many attempts")
	fs.DurationVar(&c.MaxAge, "notify-max-age", c.MaxAge, "a notification not delivered by this age is dropped")
	fs.DurationVar(&c.BackoffMin, "notify-backoff-min", c.BackoffMin, "delay before the second attempt of a notification (doubling at each failure, with jitter)")
	fs.DurationVar(&c.BackoffMax, "notify-backoff-max", c.BackoffMax, "longest delay between two attempts of a notification")
	fs.DurationVar(&c.Timeout, "notify-timeout", c.Timeout, "time allowed for one notification POST or callback test")
	fs.DurationVar(&c.PollInterval, "notify-poll-interval", c.PollInterval, "how often the outbox shared with other replicas is looked at")
	fs.StringVar(&c.CallbackDeny, "callback-deny", c.CallbackDeny, "addresses notification callbacks may never reach, besides --egress-deny: CIDRs or loopback, private, comma-separated (link-local and metadata addresses are always denied)")
	fs.StringVar(&c.SecretsKeyFile, "secrets-key-file", c.SecretsKeyFile, "key sealing the callback credentials stored in the database, created if missing; replicas share it (default DATA_DIR/secrets.key)")
}

func (c NotifyConfig) validate() error {
	switch {
	case c.Workers < 1:
		return fmt.Errorf("notify-workers must be at least 1, not %d", c.Workers)
	case c.MaxAttempts < 1:
		return fmt.Errorf("notify-max-attempts must be at least 1, not %d", c.MaxAttempts)
	case c.MaxAge <= 0 || c.BackoffMin <= 0 || c.Timeout <= 0 || c.PollInterval <= 0:
		return fmt.Errorf("notify-max-age, notify-backoff-min, notify-timeout and notify-poll-interval must be positive")
	case c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("notify-backoff-max (%s) is below notify-backoff-min (%s)", c.BackoffMax, c.BackoffMin)
	}
	return nil
}
