CREATE TABLE "blocked_keys" (
	"public_key_sha256" text PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"blocked_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ended_sessions" (
	"nonce" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "handled_comments" (
	"comment_id" bigint PRIMARY KEY NOT NULL,
	"delivery_id" text NOT NULL,
	"claim" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ended_sessions_expiry" ON "ended_sessions" USING btree ("expires_at");--> statement-breakpoint
-- Uploads were kept whole; only the CSR block is kept now. Anything else in a stored upload (a
-- private key sent along by mistake, text around the block, bytes that are no CSR) goes.
UPDATE "certificate_requests"
SET "csr_pem" = coalesce(substring("csr_pem" from '-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----[A-Za-z0-9+/=[:space:]]*-----END (?:NEW )?CERTIFICATE REQUEST-----'), '')
WHERE "csr_pem" IS DISTINCT FROM coalesce(substring("csr_pem" from '-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----[A-Za-z0-9+/=[:space:]]*-----END (?:NEW )?CERTIFICATE REQUEST-----'), '');
