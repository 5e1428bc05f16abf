/// <reference lib="webworker" />
// Stands in for a bench worker that dies mid-run: it takes the call and then fails outside any
// promise, which comlink never turns into a reply (test/browser/bench.spec.ts).
self.addEventListener('message', () => {
  setTimeout(() => {
    throw new Error('out of memory while scoring');
  });
});
