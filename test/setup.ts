import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/fixtures.ts';

// Registered before any test file's own hooks, so it runs after them (vitest runs afterAll
// hooks in reverse order): services the file started are stopped before their directories go.
afterAll(removeTempDirs);
