package main

// The subscription commands: `subscription create|list|show|delete`, over
// the server's /vnfpkgm/v1/subscriptions (SOL 005 clause 9.4.8).

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
)

var subscriptionCommands = []command{
	{"create", "subscribe a callback to VNF package notifications", (*cliEnv).subscriptionCreate},
	{"list", "list the subscriptions", (*cliEnv).subscriptionList},
	{"show", "show a subscription", (*cliEnv).subscriptionShow},
	{"delete", "delete subscriptions", (*cliEnv).subscriptionDelete},
}

// runSubscriptions is the `subscription` group.
func (env *cliEnv) runSubscriptions(args []string) int {
	env.outputColumns = subscriptionKnownColumns
	return env.runGroup("subscription", args, subscriptionCommands)
}

var subscriptionListColumns = []column{{"ID", "id"}, {"Callback URI", "callbackUri"}, {"Filter", "filter"}}

func subscriptionKnownColumns() []column {
	return append(slices.Clone(subscriptionListColumns), column{"Links", "_links"})
}

func subscriptionPath(id string) string { return "/subscriptions/" + url.PathEscape(id) }

// readSecretFile reads a secret from a file (never from the command line,
// where other users see it in the process list), without its final line
// break.
func readSecretFile(opt, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", &localError{err}
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", usagef("%s %s: the file is empty", opt, path)
	}
	return s, nil
}

func (env *cliEnv) subscriptionCreate(args []string) error {
	fs := env.newFlags("--callback URL [--filter-notification-type T ...] [--vnfd-id ID ...] [--vnf-pkg-id ID ...]\n"+
		"    [--vnf-provider P [--vnf-product N]] [--operational-state S ...] [--usage-state S ...]\n"+
		"    [--basic-user U --basic-password-file F | --oauth2-client-id ID --oauth2-client-secret-file F --oauth2-token-endpoint URL]\n"+
		"    [-f FORMAT] [-c COLUMN ...]",
		`Subscribes a callback URL to VNF package notifications. The server first
sends GET to the URL (with the credentials given) and refuses the
subscription unless it answers 204. A subscription with the same callback
and filter already there is shown instead (the server answers 303).
Passwords and client secrets are read from files and never printed.`)
	callback := fs.String("callback", "", "the callback `URL` notifications are POSTed to")
	var types, vnfdIDs, pkgIDs, opStates, usageStates stringList
	fs.Var(&types, "filter-notification-type", "only this notification `TYPE`: VnfPackageOnboardingNotification or VnfPackageChangeNotification (repeatable)")
	fs.Var(&vnfdIDs, "vnfd-id", "only packages with this vnfdId `ID` (repeatable)")
	fs.Var(&pkgIDs, "vnf-pkg-id", "only the package with this `ID` (repeatable)")
	fs.Var(&opStates, "operational-state", "only packages in this operational `STATE` (repeatable)")
	fs.Var(&usageStates, "usage-state", "only packages in this usage `STATE` (repeatable)")
	provider := fs.String("vnf-provider", "", "only packages of this `PROVIDER`")
	product := fs.String("vnf-product", "", "only packages of this product `NAME` (with --vnf-provider)")
	basicUser := fs.String("basic-user", "", "HTTP Basic `USER` for the callback")
	basicPasswordFile := fs.String("basic-password-file", "", "`FILE` holding the HTTP Basic password")
	clientID := fs.String("oauth2-client-id", "", "OAuth 2.0 client `ID` the server gets callback tokens as")
	clientSecretFile := fs.String("oauth2-client-secret-file", "", "`FILE` holding the OAuth 2.0 client secret")
	tokenEndpoint := fs.String("oauth2-token-endpoint", "", "the token endpoint `URL` (client credentials grant)")
	out := addOutputFlags(fs)
	if _, err := env.parseOutput(fs, args, out); err != nil {
		return err
	}
	if *callback == "" {
		return usagef("--callback is required")
	}
	if *product != "" && *provider == "" {
		return usagef("--vnf-product needs --vnf-provider")
	}
	filter := map[string]any{}
	for name, list := range map[string]stringList{"notificationTypes": types, "vnfdId": vnfdIDs, "vnfPkgId": pkgIDs, "operationalState": opStates, "usageState": usageStates} {
		if len(list) > 0 {
			filter[name] = []string(list)
		}
	}
	if *provider != "" {
		prov := map[string]any{"vnfProvider": *provider}
		if *product != "" {
			prov["vnfProducts"] = []any{map[string]any{"vnfProductName": *product}}
		}
		filter["vnfProductsFromProviders"] = []any{prov}
	}
	body := map[string]any{"callbackUri": *callback}
	if len(filter) > 0 {
		body["filter"] = filter
	}
	auth, err := subscriptionAuth(*basicUser, *basicPasswordFile, *clientID, *clientSecretFile, *tokenEndpoint)
	if err != nil {
		return err
	}
	if auth != nil {
		body["authentication"] = auth
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	var rec map[string]any
	resp, err := api.sendJSON(env.ctx, http.MethodPost, api.url("/subscriptions", nil), "application/json", body, &rec)
	if err != nil {
		return err
	}
	if resp.Request != nil && resp.Request.Method == http.MethodGet {
		// The POST was answered 303 and the client followed it.
		fmt.Fprintf(env.stderr, "%s: a subscription with this callback and filter exists already: shown below\n", env.cmd)
	}
	return env.showSubscription(out, rec)
}

// subscriptionAuth builds SubscriptionAuthentication from the options.
func subscriptionAuth(user, passwordFile, clientID, secretFile, tokenEndpoint string) (map[string]any, error) {
	basic := user != "" || passwordFile != ""
	oauth := clientID != "" || secretFile != "" || tokenEndpoint != ""
	switch {
	case basic && oauth:
		return nil, usagef("give either --basic-user/--basic-password-file or the --oauth2-* options, not both")
	case basic:
		if user == "" || passwordFile == "" {
			return nil, usagef("--basic-user and --basic-password-file go together")
		}
		pw, err := readSecretFile("--basic-password-file", passwordFile)
		if err != nil {
			return nil, err
		}
		return map[string]any{"authType": []string{"BASIC"}, "paramsBasic": map[string]any{"userName": user, "password": pw}}, nil
	case oauth:
		if clientID == "" || secretFile == "" || tokenEndpoint == "" {
			return nil, usagef("--oauth2-client-id, --oauth2-client-secret-file and --oauth2-token-endpoint go together")
		}
		secret, err := readSecretFile("--oauth2-client-secret-file", secretFile)
		if err != nil {
			return nil, err
		}
		return map[string]any{"authType": []string{"OAUTH2_CLIENT_CREDENTIALS"}, "paramsOauth2ClientCredentials": map[string]any{
			"clientId": clientID, "clientPassword": secret, "tokenEndpoint": tokenEndpoint}}, nil
	}
	return nil, nil
}

// showSubscription prints one PkgmSubscription as a Field | Value table
// or in the format asked.
func (env *cliEnv) showSubscription(out *outputOpts, rec map[string]any) error {
	cols := make([]column, 0, len(rec))
	known := subscriptionKnownColumns()
	for attr := range rec {
		title := titleOf(attr)
		if c, ok := findColumn(known, normalizeColumn(attr)); ok {
			title = c.title
		}
		cols = append(cols, column{title, attr})
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].title < cols[j].title })
	cols, err := selectColumns(cols, known, out.columns)
	if err != nil {
		return err
	}
	return emitOne(env.stdout, out.format, cols, rec)
}

func (env *cliEnv) subscriptionList(args []string) error {
	fs := env.newFlags("[--filter F] [-f FORMAT] [-c COLUMN ...]", "Lists the subscriptions (every page), in creation order. --filter is a SOL 013 filter\nover PkgmSubscription, e.g. (eq,filter/vnfdId,ID) or (cont,callbackUri,example).")
	filter := fs.String("filter", "", "a SOL 013 `FILTER` expression")
	out := addOutputFlags(fs)
	if _, err := env.parseOutput(fs, args, out); err != nil {
		return err
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	var q url.Values
	if *filter != "" {
		q = url.Values{"filter": {*filter}}
	}
	recs, err := api.listAll(env, api.url("/subscriptions", q))
	if err != nil {
		return err
	}
	cols, err := selectColumns(subscriptionListColumns, subscriptionKnownColumns(), out.columns)
	if err != nil {
		return err
	}
	return emitList(env.stdout, out.format, cols, recs)
}

func (env *cliEnv) subscriptionShow(args []string) error {
	pos, out, err := env.parseOutputOnly("ID [-f FORMAT] [-c COLUMN ...]", "Shows a subscription (never its credentials).", args, "ID")
	if err != nil {
		return err
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	var rec map[string]any
	if _, err := api.getJSON(env.ctx, api.url(subscriptionPath(pos[0]), nil), &rec); err != nil {
		return err
	}
	return env.showSubscription(out, rec)
}

func (env *cliEnv) subscriptionDelete(args []string) error {
	fs := env.newFlags("ID [ID ...]", "Deletes subscriptions; their undelivered notifications go with them.\nEvery ID is tried; the exit code is 1 if any failed (3 if the server could not be reached).")
	pos, err := env.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("expected ID [ID ...]")
	}
	api, err := env.client()
	if err != nil {
		return err
	}
	failed, unreachable := 0, 0
	for _, id := range pos {
		resp, err := api.do(env.ctx, request{method: http.MethodDelete, url: api.url(subscriptionPath(id), nil)})
		if err == nil {
			resp.Body.Close()
			continue
		}
		if env.ctx.Err() != nil {
			return env.ctx.Err()
		}
		failed++
		var ce *connError
		if errors.As(err, &ce) {
			unreachable++
		}
		fmt.Fprintf(env.stderr, "%s: %s: %v\n", env.cmd, id, err)
	}
	if failed > 0 {
		fmt.Fprintf(env.stderr, "%s: failed to delete %d of %d subscription(s)\n", env.cmd, failed, len(pos))
		if unreachable == failed {
			return &exitCodeError{exitUnreachable}
		}
		return &exitCodeError{exitFailed}
	}
	fmt.Fprintln(env.stdout, "All specified subscription(s) deleted successfully")
	return nil
}
