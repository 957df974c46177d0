import { request } from 'node:http';

// A bounded load on loopback: `concurrency` requests always in flight, a new connection for each
// (no keep-alive), until stopped or `maxRequests` were sent. A failure is any answer other than
// 200, a connection error or no answer within 5 s.

export interface LoadResult {
  readonly sent: number;
  readonly successes: number;
  readonly failures: number;
  /** "503", "ECONNRESET", "timeout", ... -> count. */
  readonly failureKinds: Record<string, number>;
  /** "NAME PID" of the app instance that answered -> count. */
  readonly byInstance: Record<string, number>;
}

export interface Load {
  readonly result: () => LoadResult;
  /** Resolves once `count` more requests succeeded than now; rejects when the load ended or after the timeout. */
  waitForMoreSuccesses(count: number, timeoutMs: number): Promise<void>;
  /** Resolves once `test` holds of the result (asked after every request); rejects when the load ended or after the timeout. */
  waitFor(test: (result: LoadResult) => boolean, what: string, timeoutMs: number): Promise<void>;
  stop(): Promise<LoadResult>;
}

export function startLoad(options: { port: number; concurrency: number; maxRequests: number }): Load {
  let sent = 0;
  let successes = 0;
  let failures = 0;
  let stopped = false;
  const failureKinds: Record<string, number> = {};
  const byInstance: Record<string, number> = {};
  const waiters = new Set<() => void>();
  const result = (): LoadResult => ({ sent, successes, failures, failureKinds: { ...failureKinds }, byInstance: { ...byInstance } });

  const fail = (kind: string): void => {
    failures += 1;
    failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
  };

  const once = (): Promise<void> => new Promise((resolve) => {
    sent += 1;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      outcome();
      for (const waiter of [...waiters]) waiter();
      resolve();
    };
    const req = request({ host: '127.0.0.1', port: options.port, path: '/', agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => settle(() => {
        if (response.statusCode !== 200) return fail(String(response.statusCode));
        successes += 1;
        const instance = body.trim().replace(/^ok /, '');
        byInstance[instance] = (byInstance[instance] ?? 0) + 1;
      }));
      response.on('error', (error: NodeJS.ErrnoException) => settle(() => fail(error.code ?? error.message)));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (error: NodeJS.ErrnoException) => settle(() => fail(error.code ?? error.message)));
    req.end();
  });

  const worker = async (): Promise<void> => {
    while (!stopped && sent < options.maxRequests) await once();
  };
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker)).then(() => {
    stopped = true;
    for (const waiter of [...waiters]) waiter();
  });

  const waitFor = (test: (now: LoadResult) => boolean, what: string, timeoutMs: number): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => {
      if (test(result())) done(() => resolve());
      else if (stopped) done(() => reject(new Error(`the load ended (${sent} sent, max ${options.maxRequests}) before ${what}: ${JSON.stringify(result())}`)));
    };
    const timer = setTimeout(() => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(result())}`))), timeoutMs);
    const done = (then: () => void): void => {
      clearTimeout(timer);
      waiters.delete(check);
      then();
    };
    waiters.add(check);
    check();
  });

  return {
    result,
    waitForMoreSuccesses(count, timeoutMs) {
      const target = successes + count;
      return waitFor(() => successes >= target, `${count} more successful requests`, timeoutMs);
    },
    waitFor,
    async stop() {
      stopped = true;
      await workers;
      return result();
    },
  };
}
