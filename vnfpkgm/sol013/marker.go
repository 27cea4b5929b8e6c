package sol013

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Position is where a page ended: the sort key and the id of the last item
// returned. The next page starts after it in (SortKey, ID) order, so items
// inserted or deleted meanwhile neither shift nor repeat the items that follow.
type Position struct {
	SortKey string
	ID      string
}

// ErrInvalidMarker is wrapped by every error of DecodeMarker (400).
var ErrInvalidMarker = errors.New("invalid nextpage_opaque_marker")

type markerError struct{ reason string }

func (e *markerError) Error() string { return ErrInvalidMarker.Error() + ": " + e.reason }
func (e *markerError) Unwrap() error { return ErrInvalidMarker }

const (
	markerVersion = 1
	markerMACLen  = 16
	// MaxMarkerLen bounds the length of a marker DecodeMarker accepts.
	MaxMarkerLen = 2048
)

// MarkerCodec encodes positions as opaque, URL-safe markers authenticated by
// HMAC-SHA-256 (truncated to 128 bits) under its key: a marker that was
// altered, truncated or made under another key is rejected.
//
// Layout before base64url (no padding): version byte (1), uvarint length and
// bytes of SortKey, uvarint length and bytes of ID, 16-byte MAC of all that.
type MarkerCodec struct {
	key []byte
}

// NewMarkerCodec returns a codec keyed by key. Replicas that serve the same
// data must share the key, so that a marker one issued is accepted by all.
func NewMarkerCodec(key []byte) *MarkerCodec {
	return &MarkerCodec{key: append([]byte(nil), key...)}
}

// The codec of EncodeMarker and DecodeMarker. Its key is public, so its MAC
// detects corruption and casual tampering but not a determined forger; a
// forged marker is only a position, which the client could have reached by
// paging. Use NewMarkerCodec with a secret to make markers unforgeable.
var defaultCodec = NewMarkerCodec([]byte("vnfpkgm sol013 nextpage_opaque_marker v1"))

// EncodeMarker encodes p with the package's default codec.
func EncodeMarker(p Position) string { return defaultCodec.Encode(p) }

// DecodeMarker decodes a marker made by EncodeMarker. Any error wraps ErrInvalidMarker.
func DecodeMarker(s string) (Position, error) { return defaultCodec.Decode(s) }

func (c *MarkerCodec) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write(payload)
	return h.Sum(nil)[:markerMACLen]
}

// Encode returns the marker of p.
func (c *MarkerCodec) Encode(p Position) string {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(p.SortKey)+len(p.ID)+markerMACLen)
	buf = append(buf, markerVersion)
	buf = binary.AppendUvarint(buf, uint64(len(p.SortKey)))
	buf = append(buf, p.SortKey...)
	buf = binary.AppendUvarint(buf, uint64(len(p.ID)))
	buf = append(buf, p.ID...)
	buf = append(buf, c.mac(buf)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// Decode returns the position of a marker made by Encode with the same key.
// Any error wraps ErrInvalidMarker.
func (c *MarkerCodec) Decode(s string) (Position, error) {
	if s == "" {
		return Position{}, &markerError{"empty"}
	}
	if len(s) > MaxMarkerLen {
		return Position{}, &markerError{"too long"}
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return Position{}, &markerError{"not base64url"}
	}
	if len(raw) < 1+markerMACLen {
		return Position{}, &markerError{"too short"}
	}
	payload, sum := raw[:len(raw)-markerMACLen], raw[len(raw)-markerMACLen:]
	if !hmac.Equal(sum, c.mac(payload)) {
		return Position{}, &markerError{"not issued by this server or altered"}
	}
	if payload[0] != markerVersion {
		return Position{}, &markerError{"unknown version"}
	}
	rest := payload[1:]
	var fields [2]string
	for i := range fields {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return Position{}, &markerError{"malformed"}
		}
		rest = rest[k:]
		fields[i] = string(rest[:n])
		rest = rest[n:]
	}
	if len(rest) != 0 || !utf8.ValidString(fields[0]) || !utf8.ValidString(fields[1]) {
		return Position{}, &markerError{"malformed"}
	}
	return Position{SortKey: fields[0], ID: fields[1]}, nil
}

// NextLink returns the value of the Link header that points at the next
// page: root (the scheme, authority and any prefix the server's links start
// with, never the request's Host, which the client chooses) and the
// request's path, with its query and marker as NextURL makes them.
func NextLink(root string, r *http.Request, marker string) string {
	return "<" + NextURL(root+r.URL.EscapedPath(), r.URL.RawQuery, marker) + `>; rel="next"`
}

// NextURL appends to base the parameters of rawQuery except
// nextpage_opaque_marker, then nextpage_opaque_marker=marker. Parameters are
// re-encoded so that the characters of a filter stay readable ("(eq,a,'b')")
// while ';', '&', '+', '#', spaces and non-ASCII are percent-encoded; a raw
// ';' in the original query becomes %3B, which every client decodes back.
func NextURL(base, rawQuery, marker string) string {
	var b strings.Builder
	b.WriteString(base)
	sep := byte('?')
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" {
			continue
		}
		k, v, hasValue := strings.Cut(pair, "=")
		key, kerr := url.QueryUnescape(k)
		if kerr == nil && key == ParamNextpageMarker {
			continue
		}
		val, verr := url.QueryUnescape(v)
		b.WriteByte(sep)
		sep = '&'
		if kerr != nil || verr != nil { // keep what we cannot decode as it came
			b.WriteString(pair)
			continue
		}
		b.WriteString(escapeQuery(key))
		if hasValue {
			b.WriteByte('=')
			b.WriteString(escapeQuery(val))
		}
	}
	b.WriteByte(sep)
	b.WriteString(ParamNextpageMarker)
	b.WriteByte('=')
	b.WriteString(escapeQuery(marker))
	return b.String()
}

// escapeQuery percent-encodes s for a query component, leaving the
// unreserved characters and ! $ ' ( ) * , / : @ as they are.
func escapeQuery(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if queryKeep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func queryKeep(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '\'', '(', ')', '*', ',', '/', ':', '@':
		return true
	}
	return false
}
