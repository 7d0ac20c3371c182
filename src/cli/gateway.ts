/**
 * `weft gateway`: runs an ingress/egress gateway proxy (node id `router~…`) whose listeners, from the
 * Gateway resources selecting its labels, bind on `--bind`. Runs until SIGINT/SIGTERM or
 * `/quitquitquit`, then drains and exits (see `runProxy` in proxy.ts).
 */
import type { Command } from 'commander';
import type { Io } from './io.ts';
import { commonOptions, runProxy, type RunOptions } from './proxy.ts';

export function register(program: Command, io: Io, setExit: (code: number) => void): void {
  commonOptions(program
    .command('gateway')
    .summary('run a gateway proxy (ingress/egress), e.g. --labels istio=ingressgateway')
    .description('Run a gateway proxy: connects to the control plane over ADS as a router, binds the listeners its Gateway servers ask for on --bind, admin on 15000, health on 15021, Prometheus on 15090. Drains and exits on SIGINT/SIGTERM or POST /quitquitquit.'))
    .option('--bind <addr>', 'the address gateway listeners bind on (env WEFT_BIND)', undefined)
    .action(async (opts: RunOptions) => {
      setExit(await runProxy('router', opts, io));
    });
}
