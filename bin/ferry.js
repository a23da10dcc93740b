#!/usr/bin/env -S node --max-semi-space-size=8 --min-semi-space-size=8 --no-memory-reducer
// Entry point for `npx ferry` / a global install: the CLI is TypeScript run by Node 24's type stripping.
import '../src/cli/main.ts';
