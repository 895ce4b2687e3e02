#include "cpu/blas.h"

#if defined(GPURNN_HAVE_OPENBLAS)
extern "C" {
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
}
#endif

namespace gpurnn::cpu {

void set_blas_threads(int n) {
#if defined(GPURNN_HAVE_OPENBLAS)
  if (n > 0 && n != openblas_get_num_threads()) openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

int blas_threads() {
#if defined(GPURNN_HAVE_OPENBLAS)
  return openblas_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace gpurnn::cpu
