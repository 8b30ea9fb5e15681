// Preload (`node -r /app/register-dist-paths.js dist/...`): resolves the @clinisync/* aliases to the
// compiled libs under dist/ — the mapping tools/runtime/run-service.ts applies for the services,
// for compiled entry points that run-service does not start (the migrate tool).
'use strict';
const { resolve } = require('node:path');
require('tsconfig-paths').register({
  baseUrl: resolve(__dirname, 'dist'),
  paths: { '@clinisync/*': ['libs/*/src/index.js'] },
});
