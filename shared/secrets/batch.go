// The prefetch's one call: BatchGetSecretValue fetches every configured
// secret over one TLS connection, where three GetSecretValue calls in
// parallel open three (a handshake each, which at a small function's CPU
// share is a large part of the cold start). Each secret's answer is handed
// to fetch as its own GetSecretValue's would be, so the cache cannot tell
// them apart.

package secrets

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// BatchGetSecretValueAPI is the call Prefetch makes when the cache's client
// has it. *secretsmanager.Client satisfies it.
type BatchGetSecretValueAPI interface {
	BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error)
}

var _ BatchGetSecretValueAPI = (*secretsmanager.Client)(nil)

// batchLimit is the most secret IDs one BatchGetSecretValue takes.
const batchLimit = 20

// batchGetter returns how Prefetch gets each of the secret IDs of byID: its
// share of a BatchGetSecretValue when there are two or more to fetch and
// the client can, else its own GetSecretValue.
func (c *Cache) batchGetter(byID map[string][]Ref) getter {
	api, ok := c.client.(BatchGetSecretValueAPI)
	if !ok {
		return c.getSecretValue
	}
	// Only the IDs fetch would call for: not the fresh ones, nor those
	// backing off.
	now := c.now()
	var ids []string
	for id := range byID {
		if s := c.entry(id).state.Load(); !(s.val != nil && now.Before(s.expires)) && !now.Before(s.nextFetch) {
			ids = append(ids, id)
		}
	}
	if len(ids) < 2 {
		return c.getSecretValue
	}
	slices.Sort(ids)
	byChunk := map[string]*batch{}
	for chunk := range slices.Chunk(ids, batchLimit) {
		b := &batch{cache: c, api: api, ids: chunk}
		for _, id := range chunk {
			byChunk[id] = b
		}
	}
	return func(ctx context.Context, id string) (*secretsmanager.GetSecretValueOutput, error) {
		return byChunk[id].get(ctx, id)
	}
}

// batch is one BatchGetSecretValue shared by the fetches of its IDs: the
// first to ask makes the call, within its own attempt's time bound, and
// each takes its own answer from it.
type batch struct {
	cache *Cache
	api   BatchGetSecretValueAPI
	ids   []string

	once    sync.Once
	answers map[string]answer // by the ID as configured
	err     error             // the whole call's failure
}

type answer struct {
	out *secretsmanager.GetSecretValueOutput
	err error
}

// get returns id's answer in the batch. When the whole call failed, or
// the answer left id out, id is fetched on its own with GetSecretValue;
// except after a timeout or a cancellation, which a second call would only
// repeat at the cost of another attempt's wait.
func (b *batch) get(ctx context.Context, id string) (*secretsmanager.GetSecretValueOutput, error) {
	b.once.Do(func() { b.call(ctx) })
	if a, ok := b.answers[id]; ok {
		return a.out, a.err
	}
	if b.err != nil {
		if r := reason(b.err); r == ReasonTimeout || r == ReasonCanceled {
			return nil, b.err
		}
	}
	return b.cache.getSecretValue(ctx, id)
}

func (b *batch) call(ctx context.Context) {
	b.answers = map[string]answer{}
	in := &secretsmanager.BatchGetSecretValueInput{SecretIdList: b.ids}
	// With a SecretIdList of at most 20 IDs one page holds every answer;
	// a NextToken is followed anyway, a few times at most.
	for page := 0; page < 4; page++ {
		out, err := b.api.BatchGetSecretValue(ctx, in)
		if err != nil {
			if page == 0 {
				b.err = err
				b.logFailure(ctx, err)
			}
			return
		}
		for _, v := range out.SecretValues {
			for _, id := range b.ids {
				if sameSecret(id, aws.ToString(v.ARN), aws.ToString(v.Name)) {
					b.answers[id] = answer{out: &secretsmanager.GetSecretValueOutput{
						ARN: v.ARN, Name: v.Name, CreatedDate: v.CreatedDate,
						SecretString: v.SecretString, SecretBinary: v.SecretBinary,
						VersionId: v.VersionId, VersionStages: v.VersionStages,
					}}
				}
			}
		}
		for _, e := range out.Errors {
			sid := aws.ToString(e.SecretId)
			for _, id := range b.ids {
				if _, done := b.answers[id]; !done && (id == sid || sameSecret(id, sid, sid) || sameSecret(sid, id, id)) {
					b.answers[id] = answer{err: entryError(e)}
				}
			}
		}
		if out.NextToken == nil || len(b.answers) == len(b.ids) {
			return
		}
		in.NextToken = out.NextToken
	}
}

func (b *batch) logFailure(ctx context.Context, err error) {
	attrs := []slog.Attr{slog.Int("secrets", len(b.ids)), slog.String("reason", reason(err))}
	if code := awsErrorCode(err); code != "" {
		attrs = append(attrs, slog.String("aws_error", code))
	}
	attrs = append(attrs, slog.String("error", err.Error()))
	msg := "BatchGetSecretValue failed; fetching each secret with GetSecretValue (allow secretsmanager:BatchGetSecretValue for a faster cold start)"
	if r := reason(err); r == ReasonTimeout || r == ReasonCanceled {
		msg = "BatchGetSecretValue failed"
	}
	b.cache.log.LogAttrs(ctx, slog.LevelWarn, msg, attrs...)
}

// sameSecret reports whether the configured ID id names the secret whose
// ARN and name are given: the name, the ARN, or the ARN without the six
// random characters Secrets Manager appends (a partial ARN).
func sameSecret(id, arn, name string) bool {
	if id == "" {
		return false
	}
	if id == name || id == arn {
		return true
	}
	// A partial ARN: "arn:...:secret:NAME" for "arn:...:secret:NAME-AbCdEf".
	return strings.HasPrefix(id, "arn:") && len(arn) == len(id)+7 && strings.HasPrefix(arn, id+"-")
}

// entryError is a secret's failure inside a batch as the error its own
// GetSecretValue would have returned: the same typed error for the codes
// classify tells apart, an API error with the same code for the others.
func entryError(e types.APIErrorType) error {
	code, msg := aws.ToString(e.ErrorCode), e.Message
	var err error
	switch code {
	case "ResourceNotFoundException":
		err = &types.ResourceNotFoundException{Message: msg}
	case "DecryptionFailure":
		err = &types.DecryptionFailure{Message: msg}
	case "InternalServiceError":
		err = &types.InternalServiceError{Message: msg}
	default:
		err = &smithy.GenericAPIError{Code: code, Message: aws.ToString(msg)}
	}
	return fmt.Errorf("BatchGetSecretValue: %w", err)
}
