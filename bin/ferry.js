#!/usr/bin/env node
// Entry point for `npx ferry` / a global install: the CLI is TypeScript run by Node 24's type stripping.
import '../src/cli/main.ts';
