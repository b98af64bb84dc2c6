#!/usr/bin/env node
// The built command (npm run build in this package writes dist/).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
