CREATE TABLE "crls" (
	"crl_number" bigint PRIMARY KEY NOT NULL,
	"der_base64" text NOT NULL,
	"this_update" timestamp with time zone NOT NULL,
	"next_update" timestamp with time zone NOT NULL,
	"entries" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "certificates_disabled_expiry" ON "certificates" USING btree ("not_after") WHERE not "certificates"."enabled";