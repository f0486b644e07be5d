// Reproduction for node-llama-cpp (issue 8, bench/engine-study.md): llama_decode with n_threads > 1 and no
// attached ggml threadpool, called from a pool of worker threads the way node-llama-cpp's addon calls it from
// libuv's pool. Consecutive decodes land on different pool threads, and on a 2-vCPU machine that makes a
// 2-thread decode ~3x slower than a 1-thread one; from a single pool thread, or with a persistent threadpool
// attached (what llama.cpp's own tools do), 2 threads are faster than 1.
//
// Build against the llama.cpp release node-llama-cpp bundles (a git bundle inside the npm package):
//   git clone node_modules/node-llama-cpp/llama/gitRelease.bundle /tmp/llama.cpp
//   cmake -S /tmp/llama.cpp -B /tmp/llama.cpp/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_OPENMP=OFF
//   cmake --build /tmp/llama.cpp/build -j2 --target llama
//   g++ -O2 -std=c++17 bench/native/decode-thread-hop.cpp -I/tmp/llama.cpp/include -I/tmp/llama.cpp/ggml/include \
//     -L/tmp/llama.cpp/build/bin -lllama -lggml -lggml-base -Wl,-rpath,/tmp/llama.cpp/build/bin -lpthread -o /tmp/hop
//   /tmp/hop model.gguf <threads> <pool threads> <mode: 0 decode+sample on the pool, 1 decode on a dedicated thread, 2 threadpool attached>
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "llama.h"
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

// A minimal libuv-like pool: idle workers wait on one condition variable; the caller blocks until its job ran.
struct Pool {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::function<void()>> q;
  std::vector<std::thread> workers;
  explicit Pool(int n) {
    for (int i = 0; i < n; i++)
      workers.emplace_back([this] {
        for (;;) {
          std::function<void()> job;
          {
            std::unique_lock<std::mutex> lock(m);
            cv.wait(lock, [this] { return !q.empty(); });
            job = std::move(q.front());
            q.pop_front();
          }
          job();
        }
      });
  }
  void run(const std::function<void()> & f) {
    std::mutex dm;
    std::condition_variable dcv;
    bool done = false;
    {
      std::lock_guard<std::mutex> lock(m);
      q.push_back([&] {
        f();
        std::lock_guard<std::mutex> g(dm);
        done = true;
        dcv.notify_one();
      });
    }
    cv.notify_one();
    std::unique_lock<std::mutex> lock(dm);
    dcv.wait(lock, [&] { return done; });
  }
};

int main(int argc, char ** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s model.gguf threads pool-threads mode\n", argv[0]);
    return 2;
  }
  const int threads = atoi(argv[2]), pool_threads = atoi(argv[3]), mode = atoi(argv[4]), n = 128;
  llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
  ggml_backend_load_all();
  llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 1024;
  cp.n_threads = cp.n_threads_batch = threads;
  llama_context * ctx = llama_init_from_model(model, cp);
  if (mode == 2) {
    auto * reg = ggml_backend_dev_backend_reg(ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU));
    auto * threadpool_new = (decltype(ggml_threadpool_new) *) ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new");
    ggml_threadpool_params params = ggml_threadpool_params_default(threads);
    llama_attach_threadpool(ctx, threadpool_new(&params), nullptr);
  }
  const llama_vocab * vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);
  llama_token token = llama_vocab_bos(vocab);
  llama_batch batch = llama_batch_init(1, 0, 1);
  Pool pool(pool_threads), dedicated(1);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; i++) {
    batch.n_tokens = 1;
    batch.token[0] = token;
    batch.pos[0] = i;
    batch.n_seq_id[0] = 1;
    batch.seq_id[0][0] = 0;
    batch.logits[0] = 1;
    auto decode = [&] { llama_decode(ctx, batch); llama_synchronize(ctx); };
    if (mode == 1) dedicated.run(decode); else pool.run(decode);
    pool.run([&] {  // greedy sampling, as a second job (the addon's sampleToken)
      const float * logits = llama_get_logits_ith(ctx, 0);
      int best = 0;
      for (int j = 1; j < n_vocab; j++) if (logits[j] > logits[best]) best = j;
      token = best;
    });
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  printf("threads=%d pool=%d mode=%d %.1f tok/s\n", threads, pool_threads, mode, n / seconds);
  fflush(stdout);
  _Exit(0);  // the pool threads never stop
}
