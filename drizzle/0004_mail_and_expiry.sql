CREATE TABLE "mail_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"certificate_id" uuid,
	"recipient" text NOT NULL,
	"subject" text NOT NULL,
	"state" text DEFAULT 'queued' NOT NULL,
	"failure" text,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "certificate_requests" ADD COLUMN "ticket_installation_id" bigint;--> statement-breakpoint
ALTER TABLE "mail_messages" ADD CONSTRAINT "mail_messages_certificate_id_certificates_id_fk" FOREIGN KEY ("certificate_id") REFERENCES "public"."certificates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mail_messages_one_expiry_notice" ON "mail_messages" USING btree ("certificate_id") WHERE "mail_messages"."kind" in ('expiry_reminder', 'expired');--> statement-breakpoint
CREATE INDEX "mail_messages_state" ON "mail_messages" USING btree ("state");--> statement-breakpoint
CREATE INDEX "certificates_enabled_expiry" ON "certificates" USING btree ("not_after") WHERE "certificates"."enabled";