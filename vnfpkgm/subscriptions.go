package vnfpkgm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/vnfpkgm/vnfpkgm/internal/egress"
	"github.com/vnfpkgm/vnfpkgm/storage"
	"github.com/vnfpkgm/vnfpkgm/vnfpkgm/sol013"
)

// Notification types of SOL 005 v2.6.1 clause 9.5.2.
const (
	OnboardingNotification = "VnfPackageOnboardingNotification"
	ChangeNotification     = "VnfPackageChangeNotification"
)

// Authentication types of SOL 013 SubscriptionAuthentication.
const (
	AuthBasic   = "BASIC"
	AuthOAuth2  = "OAUTH2_CLIENT_CREDENTIALS"
	AuthTLSCert = "TLS_CERT"
)

// PkgmNotificationsFilter is SOL 005 clause 9.5.3.2. Every member present
// must match (AND); within a list, any element (OR). vnfdId, vnfPkgId and
// vnfProductsFromProviders are alternatives in the standard ("should not
// be used both"): given together they are ANDed as well.
type PkgmNotificationsFilter struct {
	NotificationTypes        []string           `json:"notificationTypes,omitempty"`
	VnfProductsFromProviders []ProviderProducts `json:"vnfProductsFromProviders,omitempty"`
	VnfdID                   []string           `json:"vnfdId,omitempty"`
	VnfPkgID                 []string           `json:"vnfPkgId,omitempty"`
	OperationalState         []string           `json:"operationalState,omitempty"`
	UsageState               []string           `json:"usageState,omitempty"`
}

// ProviderProducts is one vnfProductsFromProviders entry.
type ProviderProducts struct {
	VnfProvider string       `json:"vnfProvider"`
	VnfProducts []ProductRef `json:"vnfProducts,omitempty"`
}

// ProductRef is one vnfProducts entry.
type ProductRef struct {
	VnfProductName string       `json:"vnfProductName"`
	Versions       []VersionRef `json:"versions,omitempty"`
}

// VersionRef is one versions entry.
type VersionRef struct {
	VnfSoftwareVersion string   `json:"vnfSoftwareVersion"`
	VnfdVersions       []string `json:"vnfdVersions,omitempty"`
}

// SubscriptionAuthentication is SOL 013 clause 8.3.4 (request only: it is
// never part of a response).
type SubscriptionAuthentication struct {
	AuthType    []string `json:"authType"`
	ParamsBasic *struct {
		UserName string `json:"userName"`
		Password string `json:"password"`
	} `json:"paramsBasic,omitempty"`
	ParamsOauth2ClientCredentials *struct {
		ClientID       string `json:"clientId"`
		ClientPassword string `json:"clientPassword"`
		TokenEndpoint  string `json:"tokenEndpoint"`
	} `json:"paramsOauth2ClientCredentials,omitempty"`
}

// PkgmSubscriptionRequest is SOL 005 clause 9.5.2.4.
type PkgmSubscriptionRequest struct {
	Filter         *PkgmNotificationsFilter    `json:"filter,omitempty"`
	CallbackURI    string                      `json:"callbackUri"`
	Authentication *SubscriptionAuthentication `json:"authentication,omitempty"`
}

// PkgmSubscription is SOL 005 clause 9.5.2.5.
type PkgmSubscription struct {
	ID          string                   `json:"id"`
	Filter      *PkgmNotificationsFilter `json:"filter,omitempty"`
	CallbackURI string                   `json:"callbackUri"`
	Links       struct {
		Self Link `json:"self"`
	} `json:"_links"`
}

// authParams are the non-secret delivery parameters stored in clear.
type authParams struct {
	UserName      string `json:"userName,omitempty"`
	ClientID      string `json:"clientId,omitempty"`
	TokenEndpoint string `json:"tokenEndpoint,omitempty"`
}

// subscriptionSchema describes PkgmSubscription for GET filters.
var subscriptionSchema = sol013.Object(sol013.Fields{
	"id":          sol013.String(),
	"callbackUri": sol013.String(),
	"filter": sol013.Object(sol013.Fields{
		"notificationTypes": sol013.ArrayOf(sol013.Enum(OnboardingNotification, ChangeNotification)),
		"vnfProductsFromProviders": sol013.ArrayOf(sol013.Object(sol013.Fields{
			"vnfProvider": sol013.String(),
			"vnfProducts": sol013.ArrayOf(sol013.Object(sol013.Fields{
				"vnfProductName": sol013.String(),
				"versions": sol013.ArrayOf(sol013.Object(sol013.Fields{
					"vnfSoftwareVersion": sol013.String(),
					"vnfdVersions":       sol013.ArrayOf(sol013.String()),
				})),
			})),
		})),
		"vnfdId":           sol013.ArrayOf(sol013.String()),
		"vnfPkgId":         sol013.ArrayOf(sol013.String()),
		"operationalState": sol013.ArrayOf(sol013.Enum(storage.OperationalEnabled, storage.OperationalDisabled)),
		"usageState":       sol013.ArrayOf(sol013.Enum(storage.UsageInUse, storage.UsageNotInUse)),
	}),
})

func (s *Server) registerSubscriptionRoutes(g *echo.Group) {
	g.POST("/subscriptions", s.createSubscription)
	g.GET("/subscriptions", s.listSubscriptions)
	g.HEAD("/subscriptions", s.listSubscriptions)
	g.GET("/subscriptions/:id", s.showSubscription)
	g.HEAD("/subscriptions/:id", s.showSubscription)
	g.DELETE("/subscriptions/:id", s.deleteSubscription)
}

// validate checks the filter's enumerations and required members.
func (f *PkgmNotificationsFilter) validate() error {
	oneOf := func(attr string, vals []string, allowed ...string) error {
		for _, v := range vals {
			if !slices.Contains(allowed, v) {
				return fmt.Errorf("filter.%s: %q is not one of %s", attr, v, strings.Join(allowed, ", "))
			}
		}
		return nil
	}
	if err := errors.Join(
		oneOf("notificationTypes", f.NotificationTypes, OnboardingNotification, ChangeNotification),
		oneOf("operationalState", f.OperationalState, storage.OperationalEnabled, storage.OperationalDisabled),
		oneOf("usageState", f.UsageState, storage.UsageInUse, storage.UsageNotInUse),
	); err != nil {
		return err
	}
	for _, p := range f.VnfProductsFromProviders {
		if p.VnfProvider == "" {
			return errors.New("filter.vnfProductsFromProviders: vnfProvider is required")
		}
		for _, pr := range p.VnfProducts {
			if pr.VnfProductName == "" {
				return errors.New("filter.vnfProductsFromProviders.vnfProducts: vnfProductName is required")
			}
			for _, v := range pr.Versions {
				if v.VnfSoftwareVersion == "" {
					return errors.New("filter.vnfProductsFromProviders.vnfProducts.versions: vnfSoftwareVersion is required")
				}
			}
		}
	}
	return nil
}

// isEmpty reports whether the filter has no member (it matches everything).
func (f *PkgmNotificationsFilter) isEmpty() bool {
	return f == nil || (len(f.NotificationTypes) == 0 && len(f.VnfProductsFromProviders) == 0 && len(f.VnfdID) == 0 &&
		len(f.VnfPkgID) == 0 && len(f.OperationalState) == 0 && len(f.UsageState) == 0)
}

// matches reports whether a notification of type typ about p passes the
// filter. p holds the package's states after the change (before it, for
// a deletion).
func (f *PkgmNotificationsFilter) matches(typ string, p *storage.Package) bool {
	if f == nil {
		return true
	}
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return in(f.NotificationTypes, typ) && in(f.VnfdID, p.VnfdID) && in(f.VnfPkgID, p.ID) &&
		in(f.OperationalState, p.OperationalState) && in(f.UsageState, p.UsageState) &&
		matchesProducts(f.VnfProductsFromProviders, p)
}

// matchesProducts walks provider -> products -> versions -> vnfdVersions:
// an absent or empty level below a matching entry matches everything.
func matchesProducts(providers []ProviderProducts, p *storage.Package) bool {
	if len(providers) == 0 {
		return true
	}
	for _, prov := range providers {
		if prov.VnfProvider != p.VnfProvider {
			continue
		}
		if len(prov.VnfProducts) == 0 {
			return true
		}
		for _, prod := range prov.VnfProducts {
			if prod.VnfProductName != p.VnfProductName {
				continue
			}
			if len(prod.Versions) == 0 {
				return true
			}
			for _, v := range prod.Versions {
				if v.VnfSoftwareVersion == p.VnfSoftwareVersion && (len(v.VnfdVersions) == 0 || slices.Contains(v.VnfdVersions, p.VnfdVersion)) {
					return true
				}
			}
		}
	}
	return false
}

// checkCallbackURI accepts absolute http and https URIs without
// credentials in them (those go in authentication).
func checkCallbackURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return errors.New("callbackUri is required")
	case err != nil:
		return fmt.Errorf("callbackUri is not a URI: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("callbackUri must be an http or https URI, not %q", u.Scheme)
	case u.Host == "":
		return errors.New("callbackUri has no host")
	case u.User != nil:
		return errors.New("callbackUri must not carry credentials: give them in authentication")
	case u.Fragment != "":
		return errors.New("callbackUri must not have a fragment")
	}
	return nil
}

// delivery is what sending to a subscription needs: its callback and
// credentials (the secret unsealed).
type delivery struct {
	id, callback, authType string
	params                 authParams
	secret                 string
}

// deliveryOf reads a request's authentication into a delivery.
func deliveryOf(req *PkgmSubscriptionRequest) (*delivery, *sol013.ProblemDetails) {
	d := &delivery{callback: req.CallbackURI}
	a := req.Authentication
	if a == nil {
		return d, nil
	}
	if slices.Contains(a.AuthType, AuthTLSCert) {
		return nil, sol013.NewProblem(http.StatusUnprocessableEntity, "authType TLS_CERT is not supported by this server: use BASIC or OAUTH2_CLIENT_CREDENTIALS")
	}
	if len(a.AuthType) != 1 {
		return nil, sol013.NewProblem(http.StatusBadRequest, "authentication.authType must name exactly one of BASIC and OAUTH2_CLIENT_CREDENTIALS")
	}
	switch a.AuthType[0] {
	case AuthBasic:
		b := a.ParamsBasic
		if b == nil || b.UserName == "" || b.Password == "" || strings.Contains(b.UserName, ":") {
			return nil, sol013.NewProblem(http.StatusBadRequest, "authType BASIC needs paramsBasic with a userName (without ':') and a password")
		}
		d.authType, d.params, d.secret = AuthBasic, authParams{UserName: b.UserName}, b.Password
	case AuthOAuth2:
		o := a.ParamsOauth2ClientCredentials
		if o == nil || o.ClientID == "" || o.ClientPassword == "" || o.TokenEndpoint == "" {
			return nil, sol013.NewProblem(http.StatusBadRequest, "authType OAUTH2_CLIENT_CREDENTIALS needs paramsOauth2ClientCredentials with clientId, clientPassword and tokenEndpoint")
		}
		if err := checkCallbackURI(o.TokenEndpoint); err != nil {
			return nil, sol013.Problemf(http.StatusBadRequest, "paramsOauth2ClientCredentials.tokenEndpoint: %s", strings.TrimPrefix(err.Error(), "callbackUri "))
		}
		d.authType, d.params, d.secret = AuthOAuth2, authParams{ClientID: o.ClientID, TokenEndpoint: o.TokenEndpoint}, o.ClientPassword
	default:
		return nil, sol013.Problemf(http.StatusBadRequest, "authentication.authType %q is not BASIC, OAUTH2_CLIENT_CREDENTIALS or TLS_CERT", a.AuthType[0])
	}
	return d, nil
}

// dedupKey identifies a callbackUri and filter (the filter in its
// canonical JSON form, so that member order does not matter).
func dedupKey(callback string, f *PkgmNotificationsFilter) string {
	canon := []byte("{}")
	if !f.isEmpty() {
		canon, _ = json.Marshal(f)
	}
	sum := sha256.Sum256(append([]byte(callback+"\n"), canon...))
	return hex.EncodeToString(sum[:])
}

// createSubscription is POST /subscriptions: the request is checked, the
// callback tested (GET, with the subscription's credentials, must answer
// 204), and the subscription stored; a subscription with the same
// callbackUri and filter answers 303 See Other with its Location.
func (s *Server) createSubscription(c echo.Context) error {
	var req PkgmSubscriptionRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if err := checkCallbackURI(req.CallbackURI); err != nil {
		return sol013.NewProblem(http.StatusBadRequest, err.Error())
	}
	if req.Filter != nil {
		if err := req.Filter.validate(); err != nil {
			return sol013.NewProblem(http.StatusBadRequest, err.Error())
		}
		if req.Filter.isEmpty() {
			req.Filter = nil
		}
	}
	d, pd := deliveryOf(&req)
	if pd != nil {
		return pd
	}
	ctx := c.Request().Context()
	key := dedupKey(req.CallbackURI, req.Filter)
	root := apiRoot(c)
	if existing, err := s.db.SubscriptionByDedupKey(ctx, key); err != nil {
		return err
	} else if existing != "" {
		return seeOther(c, root, existing)
	}
	if pd := s.testCallback(ctx, d); pd != nil {
		return pd
	}
	sub := &storage.Subscription{CallbackURI: req.CallbackURI, DedupKey: key, AuthType: d.authType}
	if req.Filter != nil {
		sub.Filter = storage.MustJSON(req.Filter)
	}
	if d.authType != "" {
		sub.AuthParams = storage.MustJSON(d.params)
	}
	err := s.db.CreateSubscription(ctx, sub, func(id string) ([]byte, error) {
		if d.secret == "" {
			return nil, nil
		}
		return s.secrets.seal(id, []byte(d.secret))
	})
	var dup *storage.DuplicateSubscriptionError
	if errors.As(err, &dup) {
		return seeOther(c, root, dup.ExistingID)
	}
	if err != nil {
		return err
	}
	out := toSubscription(sub, root)
	c.Response().Header().Set(echo.HeaderLocation, out.Links.Self.Href)
	return c.JSON(http.StatusCreated, out)
}

// seeOther answers a duplicate subscription (SOL 005 clause 9.4.8.3.1:
// 303 See Other pointing at the existing one, no body).
func seeOther(c echo.Context, root, id string) error {
	c.Response().Header().Set(echo.HeaderLocation, subscriptionHref(root, id))
	return c.NoContent(http.StatusSeeOther)
}

func subscriptionHref(root, id string) string {
	return root + BasePath + "/subscriptions/" + url.PathEscape(id)
}

func toSubscription(sub *storage.Subscription, root string) PkgmSubscription {
	out := PkgmSubscription{ID: sub.ID, CallbackURI: sub.CallbackURI}
	if len(sub.Filter) > 0 {
		var f PkgmNotificationsFilter
		if json.Unmarshal(sub.Filter, &f) == nil {
			out.Filter = &f
		}
	}
	out.Links.Self.Href = subscriptionHref(root, sub.ID)
	return out
}

// testCallback is the callback test of SOL 005 clause 9.4.10.3.2: GET
// the callbackUri with the subscription's credentials; only 204 passes.
func (s *Server) testCallback(ctx context.Context, d *delivery) *sol013.ProblemDetails {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Notify.Timeout)
	defer cancel()
	resp, err := s.sendToCallback(ctx, d, http.MethodGet, nil)
	if err != nil {
		return sol013.Problemf(http.StatusUnprocessableEntity, "the callback test failed: %s", describeCallbackError(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return sol013.Problemf(http.StatusUnprocessableEntity, "the callback test failed: GET %s answered %s, expected 204 No Content", d.callback, resp.Status)
	}
	return nil
}

// describeCallbackError says why a callback could not be reached without
// naming addresses the egress policy refused (those go to the log only).
func describeCallbackError(err error) string {
	var tokErr *tokenError
	isToken := errors.As(err, &tokErr)
	switch {
	case isToken && errors.Is(err, egress.ErrDenied):
		return "the token endpoint's address is not allowed by this server's egress policy"
	case errors.Is(err, egress.ErrDenied):
		return "the callback address is not allowed by this server's egress policy"
	}
	return err.Error()
}

// showSubscription is GET /subscriptions/{id}.
func (s *Server) showSubscription(c echo.Context) error {
	id := pathParam(c, "id")
	sub, err := s.db.GetSubscription(c.Request().Context(), id)
	if err != nil {
		return storageError(err, "subscription "+id)
	}
	return c.JSON(http.StatusOK, toSubscription(sub, apiRoot(c)))
}

// deleteSubscription is DELETE /subscriptions/{id}: its undelivered
// notifications go with it.
func (s *Server) deleteSubscription(c echo.Context) error {
	id := pathParam(c, "id")
	if err := s.db.DeleteSubscription(c.Request().Context(), id); err != nil {
		return storageError(err, "subscription "+id)
	}
	s.tokenSources.Delete(id)
	return c.NoContent(http.StatusNoContent)
}

// listSubscriptions is GET /subscriptions with a SOL 013 filter over
// PkgmSubscription and paging in creation order.
func (s *Server) listSubscriptions(c echo.Context) error {
	q, err := sol013.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "the query string is malformed: %v", err)
	}
	filter, err := sol013.FilterFromQuery(q, subscriptionSchema)
	if err != nil {
		return sol013.Problemf(http.StatusBadRequest, "%v", err)
	}
	var after int64
	if m := q.Get("nextpage_opaque_marker"); m != "" {
		pos, err := sol013.DecodeMarker(m)
		if err == nil {
			after, err = strconv.ParseInt(pos.SortKey, 10, 64)
		}
		if err != nil {
			return sol013.Problemf(http.StatusBadRequest, "nextpage_opaque_marker is not one this server issued: %v", err)
		}
	}
	root := apiRoot(c)
	page := []PkgmSubscription{}
	var last int64
	more := false
	err = s.db.ScanSubscriptions(c.Request().Context(), after, func(sub *storage.Subscription) (bool, error) {
		item := toSubscription(sub, root)
		if !filter.Match(asMap(item)) {
			return true, nil
		}
		if len(page) == pageSize {
			more = true
			return false, nil
		}
		page, last = append(page, item), sub.Seq
		return true, nil
	})
	if err != nil {
		return err
	}
	if more {
		marker := sol013.EncodeMarker(sol013.Position{SortKey: strconv.FormatInt(last, 10)})
		c.Response().Header().Set("Link", sol013.NextLink(root, c.Request(), marker))
	}
	return c.JSON(http.StatusOK, page)
}
