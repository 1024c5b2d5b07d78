/** Every request body is at most 64 KiB as sent; more is answered with 413. */
export const MAX_BODY_BYTES = 64 * 1024;
