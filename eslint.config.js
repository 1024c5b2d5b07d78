// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A relative import of src/db, for esquery (which takes no `/` inside a regex). */
const DB_PATH = String.raw`/^(\.\.?\x2F)+(src\x2F)?db(\x2F|$)/`;

export default tseslint.config(
  { ignores: ['node_modules', 'data', 'coverage', 'test-results', 'drizzle'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Routes, pages and webhook handlers go through src/services (docs/architecture.md): the
    // database's schema, connection, errors and repositories stay behind the use cases.
    files: ['src/api/**', 'src/web/**', 'src/bot/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\.?/)+(src/)?db(/|$)',
              message: 'Go through a service in src/services (or an interface in src/core), not src/db.',
            },
            {
              group: ['drizzle-orm', 'drizzle-orm/*'],
              message: 'Queries belong in src/db/repositories, called from a service in src/services.',
            },
          ],
        },
      ],
      // The same for `import('../db/…')`, as an expression or as a type, which the rule above does not see.
      'no-restricted-syntax': [
        'error',
        {
          selector: `ImportExpression[source.value=${DB_PATH}], TSImportType[argument.literal.value=${DB_PATH}]`,
          message: 'Go through a service in src/services (or an interface in src/core), not src/db.',
        },
      ],
    },
  },
);
