#!/usr/bin/env node
// The CLI entry point. The sources are TypeScript run by Node's own type stripping (Node >= 22.18),
// so there is no build step between a rules change and `npx cad-triage`.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
