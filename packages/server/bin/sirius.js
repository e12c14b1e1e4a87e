#!/usr/bin/env node
// The `sirius` command of an installed @sirius/server: the CLI built into dist/ (`npm run build`). Inside the
// repository, `npm run sirius -- …` runs the TypeScript source instead.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
