#!/usr/bin/env node
/** `ferry`: the command line. One file per command; this one only wires them into commander. */
import { Command } from 'commander';
import { registerRun } from './run.ts';
import { registerValidate } from './validate.ts';
import { registerDemo } from './demo.ts';
import { registerRollout } from './rollout.ts';

const program = new Command()
  .name('ferry')
  .description('API gateway and lightweight service mesh for moving services from VMs to Kubernetes one route at a time')
  .showHelpAfterError();

registerRun(program);
registerValidate(program);
registerDemo(program);
registerRollout(program);

program.parseAsync(process.argv).catch((err: Error) => {
  process.stderr.write(`ferry: ${err.message}\n`);
  process.exit(2);
});
