package auth

import (
	"net/http"
	"time"
)

func authClientForTest() *http.Client { return &http.Client{Timeout: 10 * time.Second} }
