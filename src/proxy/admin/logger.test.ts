import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from './logger.ts';

describe('named loggers', () => {
  it('gates each logger by its own level; writers read the level on every line', () => {
    const lines: string[] = [];
    const logger = new Logger('info', (l) => lines.push(l));
    const config = logger.get('config').at('info');
    const routerDebug = logger.get('router').at('debug');
    config('c1');
    routerDebug('r1');
    assert.equal(logger.setLevels([['router', 'debug']]), undefined);
    routerDebug('r2');
    assert.equal(logger.setLevels([['config', 'error']]), undefined);
    config('c2');
    logger.setAll('off');
    logger.get('main').log('critical', 'm1');
    assert.deepEqual(lines, ['c1', 'r2']);
  });

  it('refuses a change whole, with Envoy\'s reasons, levels checked before names', () => {
    const logger = new Logger('info', () => {});
    assert.equal(logger.setLevels([['router', 'debug'], ['nope', 'debug']]), 'unknown logger name');
    assert.equal(logger.setLevels([['nope', 'debug'], ['router', 'loud']]), 'unknown logger level');
    assert.equal(logger.setLevels([['router', '']]), 'empty logger name or empty logger level');
    assert.equal(logger.get('router').level, 'info', 'nothing changed');
    assert.match(logger.listing(), /^active loggers:\n  admin: info\n  config: info\n[^]*  upstream: info\n\n$/);
  });
});
