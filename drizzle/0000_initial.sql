CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"subject_type" text NOT NULL,
	"subject_id" text NOT NULL,
	"reason" text,
	"request_id" uuid,
	"delivery_id" text,
	"details" jsonb
);
--> statement-breakpoint
CREATE TABLE "certificate_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"line_id" uuid NOT NULL,
	"csr_pem" text NOT NULL,
	"subject" text,
	"csr_sha256" text,
	"public_key_sha256" text,
	"state" text NOT NULL,
	"errors" jsonb,
	"ticket" text,
	"decided_by" text,
	"decision_reason" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"request_id" uuid NOT NULL,
	"line_id" uuid NOT NULL,
	"serial" text NOT NULL,
	"common_name" text NOT NULL,
	"subject" text NOT NULL,
	"pem" text NOT NULL,
	"fingerprint_sha256" text NOT NULL,
	"public_key_sha256" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_at" timestamp with time zone,
	"disabled_reason" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "certificates_request_id_unique" UNIQUE("request_id"),
	CONSTRAINT "certificates_serial_unique" UNIQUE("serial"),
	CONSTRAINT "certificates_public_key_sha256_unique" UNIQUE("public_key_sha256")
);
--> statement-breakpoint
CREATE TABLE "connectors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"supplier_id" uuid NOT NULL,
	"technical_name" text NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "connectors_technical_name_unique" UNIQUE("technical_name")
);
--> statement-breakpoint
CREATE TABLE "consents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"line_id" uuid NOT NULL,
	"request_id" uuid NOT NULL,
	"approver_login" text NOT NULL,
	"approver_id" bigint NOT NULL,
	"ticket" text,
	"comment_id" bigint,
	"approved_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "environment_lines" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"customer_code" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "supplier_github_logins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"supplier_id" uuid NOT NULL,
	"login" text NOT NULL,
	"github_user_id" bigint
);
--> statement-breakpoint
CREATE TABLE "suppliers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"email" text NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "suppliers_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connector_id" uuid NOT NULL,
	"version" text NOT NULL,
	"state" text DEFAULT 'editable' NOT NULL,
	"approved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "certificate_requests" ADD CONSTRAINT "certificate_requests_line_id_environment_lines_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."environment_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_request_id_certificate_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."certificate_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "certificates" ADD CONSTRAINT "certificates_line_id_environment_lines_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."environment_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connectors" ADD CONSTRAINT "connectors_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_line_id_environment_lines_id_fk" FOREIGN KEY ("line_id") REFERENCES "public"."environment_lines"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consents" ADD CONSTRAINT "consents_request_id_certificate_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."certificate_requests"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "environment_lines" ADD CONSTRAINT "environment_lines_version_id_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "supplier_github_logins" ADD CONSTRAINT "supplier_github_logins_supplier_id_suppliers_id_fk" FOREIGN KEY ("supplier_id") REFERENCES "public"."suppliers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "versions" ADD CONSTRAINT "versions_connector_id_connectors_id_fk" FOREIGN KEY ("connector_id") REFERENCES "public"."connectors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_log_subject" ON "audit_log" USING btree ("subject_type","subject_id");--> statement-breakpoint
CREATE INDEX "certificate_requests_line" ON "certificate_requests" USING btree ("line_id","created_at");--> statement-breakpoint
CREATE INDEX "certificate_requests_state" ON "certificate_requests" USING btree ("state");--> statement-breakpoint
CREATE UNIQUE INDEX "certificate_requests_one_waiting" ON "certificate_requests" USING btree ("line_id") WHERE "certificate_requests"."state" = 'awaiting_approval';--> statement-breakpoint
CREATE INDEX "certificates_line" ON "certificates" USING btree ("line_id","not_after");--> statement-breakpoint
CREATE INDEX "connectors_supplier" ON "connectors" USING btree ("supplier_id");--> statement-breakpoint
CREATE UNIQUE INDEX "consents_line" ON "consents" USING btree ("line_id");--> statement-breakpoint
CREATE UNIQUE INDEX "environment_lines_version_code" ON "environment_lines" USING btree ("version_id","customer_code");--> statement-breakpoint
CREATE UNIQUE INDEX "supplier_github_logins_login" ON "supplier_github_logins" USING btree ("login");--> statement-breakpoint
CREATE UNIQUE INDEX "versions_connector_version" ON "versions" USING btree ("connector_id","version");