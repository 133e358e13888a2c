// What an operator's tool may learn of a cached secret besides its value:
// the Secrets Manager version it came from, so that cmd/doctor can say
// which version the function would sign with.

package secrets

// VersionID returns the Secrets Manager version ID of the value cached for
// the secret id (a name or ARN, as in Ref.ID), or "" when no value has been
// fetched for it. It makes no call.
func (c *Cache) VersionID(id string) string {
	e, ok := c.entries.Load(id)
	if !ok {
		return ""
	}
	if s := e.(*entry).state.Load(); s.val != nil {
		return s.val.versionID
	}
	return ""
}
