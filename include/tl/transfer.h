/*
 * libtl transfer: the building blocks of multi-task learning, self-labelling
 * and multi-source domain adaptation that sit between a model and a training
 * loop (../docs/transfer.md): task sampling, loss weighting, soft parameter
 * sharing, distillation from several teachers, source-model weights and
 * ensembles, the maximum cluster difference, pseudo-label selection, co-,
 * tri-training and democratic co-learning. Formulas and the implementation
 * each one follows are in the comments below and in docs/transfer.md.
 *
 * Conventions: probabilities and losses are double; logits and
 * representations are float (as model outputs). Every function checks all
 * of its input before writing anything: a failing call changes nothing.
 * Thread-safety: the pure functions may run from any thread; a sampler, a
 * tri-training or a democratic co-learning state from one thread at a
 * time.
 */
#ifndef TL_TRANSFER_H
#define TL_TRANSFER_H

#include "tl/core.h"
#include "tl/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ========================================================================
 * Task sampling (multi-task learning: which task's batch comes next)
 * ======================================================================== */

/* How a tl_task_sampler weighs tasks of sizes n_i. */
typedef enum tl_task_sampling {
  /* p_i = 1 / K. */
  TL_TASK_SAMPLING_UNIFORM = 0,
  /* p_i = n_i / sum n (each example equally likely). */
  TL_TASK_SAMPLING_PROPORTIONAL = 1,
  /* p_i = (1 / n_i) / sum_j (1 / n_j): small tasks favoured. */
  TL_TASK_SAMPLING_INVERSE = 2,
  /* p_i = n_i^(1/tau) / sum_j n_j^(1/tau) (tau 1: proportional; tau to
   * infinity: uniform). */
  TL_TASK_SAMPLING_TEMPERATURE = 3,
  /* Temperature sampling whose exponent alpha = 1/tau moves linearly from
   * 1/tau to 1/tau_end over anneal_steps draws, then stays (Stickland &
   * Murray 2019's annealed sampling: alpha from 1 to 0.2 over training). */
  TL_TASK_SAMPLING_ANNEALED = 4
} tl_task_sampling;

/* Options of tl_task_sampler_create. */
#define TL_TASK_SAMPLER_OPTIONS_VERSION 1
typedef struct tl_task_sampler_options {
  unsigned int version;  /* TL_TASK_SAMPLER_OPTIONS_VERSION */
  tl_task_sampling mode; /* default TL_TASK_SAMPLING_PROPORTIONAL */
  double tau;            /* temperature, > 0 (default 1) */
  double tau_end;        /* annealed: final temperature, > 0 (default 5) */
  uint64_t anneal_steps; /* annealed: draws to reach tau_end, > 0 (1000) */
  uint64_t seed;         /* the draws' random stream (default 0) */
} tl_task_sampler_options;
/* The defaults of tl_task_sampler_options_init as a static initialiser:
 * tl_task_sampler_options o = TL_TASK_SAMPLER_OPTIONS_INIT; */
#define TL_TASK_SAMPLER_OPTIONS_INIT                                           \
  {                                                                            \
    TL_TASK_SAMPLER_OPTIONS_VERSION, TL_TASK_SAMPLING_PROPORTIONAL, 1.0, 5.0,  \
        1000, 0                                                                \
  }

/* Fills *out with the defaults above for `version`. Errors:
 * TL_E_INVALID_ARG (out NULL), TL_E_UNSUPPORTED (version unknown). */
TL_API tl_status tl_task_sampler_options_init(tl_task_sampler_options *out,
                                              unsigned int version);

/* A seeded task sampler (opaque): the task sizes, the mode and its random
 * stream and draw counter. */
typedef struct tl_task_sampler tl_task_sampler;

/* A sampler over n_tasks tasks of sizes[0..n_tasks) examples (copied).
 * options NULL: defaults. Errors: TL_E_INVALID_ARG (NULL, n_tasks 0, a
 * size 0 naming the task, tau or tau_end <= 0 or not finite,
 * anneal_steps 0, unknown mode), TL_E_UNSUPPORTED (version), TL_E_NOMEM. */
TL_API tl_status tl_task_sampler_create(tl_task_sampler **out,
                                        const uint64_t *sizes, size_t n_tasks,
                                        const tl_task_sampler_options *options);
/* Frees the sampler. NULL is a no-op. */
TL_API void tl_task_sampler_free(tl_task_sampler *sampler);

/* The probabilities of the next draw into out[0..n) (n must be the number
 * of tasks, else TL_E_SHAPE). They sum to 1 up to rounding. */
TL_API tl_status tl_task_sampler_probs(double *out, size_t n,
                                       const tl_task_sampler *sampler);

/* Draws the next task (by inverse CDF of the probabilities above with a
 * 53-bit uniform of libtl's xoshiro256** stream) into *out_task and
 * advances the draw counter (which moves the annealed temperature). */
TL_API tl_status tl_task_sampler_sample(size_t *out_task,
                                        tl_task_sampler *sampler);

/* The number of draws so far into *out. */
TL_API tl_status tl_task_sampler_num_draws(uint64_t *out,
                                           const tl_task_sampler *sampler);

/* ========================================================================
 * Loss weighting
 * ======================================================================== */

/* Uncertainty weighting (Kendall, Gal & Cipolla 2018) with learned
 * log-variances s_i: total = sum_i exp(-s_i) L_i + s_i. Writes *out_total,
 * out_weights[i] = exp(-s_i) (multiply task i's loss gradient by it before
 * backward; may be NULL) and ADDS d total / d s_i = 1 - exp(-s_i) L_i to
 * grad_log_vars[i] (may be NULL), so s can be a model parameter that the
 * optimizer updates like any other (tl_model_param_view gives both
 * pointers). Errors: TL_E_INVALID_ARG (NULL losses or log_vars, n 0),
 * TL_E_NUMERIC (a loss or s_i not finite, or exp(-s_i) L_i overflowing). */
TL_API tl_status tl_uncertainty_weighting(double *out_total,
                                          double *out_weights,
                                          float *grad_log_vars,
                                          const double *losses,
                                          const float *log_vars, size_t n);

/* Dynamic weight averaging (Liu, Johns & Davison 2019): with r_i =
 * L_i(t-1) / L_i(t-2) (the average losses of the two previous epochs),
 * w_i = n exp(r_i / T) / sum_j exp(r_j / T). loss_prev and loss_prev2 NULL
 * (the first two epochs): every w_i = 1. Errors: TL_E_INVALID_ARG (NULL
 * out, n 0, only one of the histories NULL, T <= 0 or not finite, a loss
 * <= 0 or not finite). */
TL_API tl_status tl_dwa_weights(double *out, const double *loss_prev,
                                const double *loss_prev2, size_t n,
                                double temperature);

/* GradNorm (Chen, Badrinarayanan, Lee & Rabinovich 2018), the gradient
 * normalisation loss for learned task weights w_i > 0. The host gives, per
 * task, grad_norms[i] = ||d L_i / d W||_2, the norm of the UNWEIGHTED task
 * loss's gradient with respect to the shared parameters W the paper picks
 * (usually the last shared layer: tl_model_layer_output_grad taps or one
 * backward per task), the current losses L_i(t) and the first step's
 * L_i(0). With G_i = w_i grad_norms[i], G_mean their mean, the relative
 * inverse training rates r_i = (L_i(t) / L_i(0)) / mean_j (L_j(t) / L_j(0))
 * and the targets G_mean r_i^alpha held constant (as in the paper),
 *   L_grad = sum_i |G_i - G_mean r_i^alpha|
 * is written to *out_loss and d L_grad / d w_i = sign(G_i - target_i)
 * grad_norms[i] ADDED to grad_weights[i] (may be NULL), so the weights can
 * be a model parameter the optimizer updates; after that step call
 * tl_gradnorm_rescale. out_targets (may be NULL) receives the targets.
 * Errors: TL_E_INVALID_ARG (NULL, n 0, alpha < 0 or not finite, a weight
 * <= 0, a norm < 0, a loss <= 0 or not finite, naming the task), nothing
 * written. */
TL_API tl_status tl_gradnorm(double *out_loss, double *out_targets,
                             float *grad_weights, const float *weights,
                             const double *grad_norms, const double *losses,
                             const double *initial_losses, size_t n,
                             double alpha);

/* GradNorm's renormalisation after each weight update: w_i <- n w_i /
 * sum_j w_j, so the weights sum to the number of tasks. Errors:
 * TL_E_INVALID_ARG (NULL, n 0, a weight <= 0 or not finite, naming it: a
 * step that drove a weight to 0 or below needs a smaller learning rate),
 * nothing changed. */
TL_API tl_status tl_gradnorm_rescale(float *weights, size_t n);

/* ========================================================================
 * Soft parameter sharing
 * ======================================================================== */

/* L2 soft sharing between matching parameters of two models (Duong et al.
 * 2015): penalty = lambda * sum_k ||a[names_a[k]] - b[names_b[k]]||^2,
 * written to *out_penalty; its gradient 2 lambda (a - b) is ADDED to a's
 * gradient and its negative to b's (trainable or not: the optimizer skips
 * frozen ones). a and b may be the same model (different parameters).
 * Errors: TL_E_INVALID_ARG (NULL, n 0, lambda < 0 or not finite),
 * TL_E_NOT_FOUND (a name, naming it), TL_E_SHAPE (two parameters of other
 * sizes, naming both), TL_E_NUMERIC (a penalty that overflows; nothing
 * added). */
TL_API tl_status tl_soft_share_l2(double *out_penalty, tl_model *a,
                                  const char *const *names_a, tl_model *b,
                                  const char *const *names_b, size_t n,
                                  double lambda);

/* Trace-norm soft sharing between matching parameters of n_models >= 2
 * models (Yang & Hospedales 2017, "last axis flattening"): for each of the
 * n_params parameter slots k, the matrix W_k (n_models x P) whose row m is
 * model m's parameter names[m * n_params + k] flattened, and
 *   penalty = lambda * sum_k ||W_k||_*   (the nuclear norm: the sum of
 *   W_k's singular values, LAPACK dgesdd in double)
 * written to *out_penalty. Its gradient lambda U V^T (the thin SVD's
 * singular vectors) is ADDED row by row into each model's gradient;
 * singular values <= max(n_models, P) * DBL_EPSILON * s_max (rank
 * deficiency, e.g. identical models) contribute no gradient, the
 * minimum-norm subgradient. A small penalty pulls the stacked parameters
 * toward a low-rank matrix (shared directions) instead of toward equality
 * as tl_soft_share_l2 does. Allocates n_models x P doubles for the SVD and
 * the gradients before adding any. Errors: TL_E_INVALID_ARG (NULL,
 * n_models < 2, n_params 0, lambda < 0 or not finite, a NULL model or
 * name), TL_E_NOT_FOUND (a name, naming it and the model), TL_E_SHAPE (a
 * slot whose parameters differ in shape, naming both), TL_E_NUMERIC (a
 * NaN or Inf parameter, an SVD that does not converge, a penalty that
 * overflows), TL_E_NOMEM; nothing added on error. */
TL_API tl_status tl_soft_share_trace(double *out_penalty,
                                     tl_model *const *models,
                                     const char *const *names, size_t n_models,
                                     size_t n_params, double lambda);

/* ========================================================================
 * Distillation from several teachers (knowledge adaptation)
 * ======================================================================== */

/* Soft-target distillation loss (Hinton et al. 2015; Ruder, Ghaffari &
 * Breslin 2017): the teachers' soft targets p = sum_k w_k softmax(z_k / T)
 * (w = teacher_weights normalised to sum 1, NULL: equal), and
 *   loss = T^2 / n * sum_rows -sum_j p_j log softmax(z_s / T)_j
 * over student logits z_s (n, c), as torch's T * T *
 * F.cross_entropy(z_s / T, p) with probability targets. out_dlogits (may
 * be NULL) receives d loss / d z_s = T (softmax(z_s / T) - p) / n.
 * teachers[k] points to teacher k's logits (n, c). Errors:
 * TL_E_INVALID_ARG (NULL, n, c or n_teachers 0, T <= 0, a weight
 * negative or not finite, weights summing to 0), TL_E_NUMERIC (a NaN or
 * Inf logit, naming the array and row). */
TL_API tl_status tl_distill_loss(double *out_loss, float *out_dlogits,
                                 const float *student_logits,
                                 const float *const *teachers,
                                 const double *teacher_weights,
                                 size_t n_teachers, size_t n, size_t c,
                                 double temperature);

/* ========================================================================
 * Combining source models (multi-source domain adaptation)
 * ======================================================================== */

/* How tl_source_weights turns each source's divergence d_i from the target
 * (any measure of tl/metrics.h: smaller is more similar) into weights that
 * sum to 1. */
typedef enum tl_source_weighting {
  /* w_i = exp(-d_i / T) / sum_j exp(-d_j / T), param = T > 0 (T to
   * infinity: equal weights; T to 0: the most similar source only). Any
   * finite d (an unbiased MMD^2 or a proxy A-distance may be < 0); d = +inf
   * gets weight 0. */
  TL_SOURCE_WEIGHTS_SOFTMAX = 0,
  /* w_i = (1 / d_i) / sum_j (1 / d_j), d_i >= 0 (param ignored); sources
   * at divergence 0 share all the weight equally, d = +inf gets 0. */
  TL_SOURCE_WEIGHTS_INVERSE = 1,
  /* w_i = (b - d_i) / sum_j (b - d_j): the similarity b - d normalised,
   * param = b >= every d_i, finite (e.g. ln 2 for the JS divergence in
   * nats, 1 for the JS distance: similarity 1 - d). All d_i = b: equal
   * weights. */
  TL_SOURCE_WEIGHTS_LINEAR = 2
} tl_source_weighting;

/* Weights out[0..n) for n source models from their divergences to the
 * target, by `mode` (see tl_source_weighting; param is its temperature or
 * bound). Weights are computed relative to the smallest divergence, so no
 * exponential or reciprocal overflows. Pass them to tl_ensemble_average or
 * as the teacher weights of tl_distill_loss. Errors: TL_E_INVALID_ARG
 * (NULL, n 0, unknown mode, a NaN or -inf divergence naming the source, a
 * divergence outside the mode's domain, every divergence +inf, a
 * temperature <= 0 or a bound not finite), nothing written. */
TL_API tl_status tl_source_weights(double *out, const double *divergences,
                                   size_t n, tl_source_weighting mode,
                                   double param);

/* Weighted ensemble of k models' class probabilities: out (n, c) =
 * sum_m w_m probs[m] with w = weights normalised to sum 1 (NULL: equal
 * weights, the plain average). probs[m] points to model m's (n, c) array.
 * Each row of each model must be a probability vector: entries in [0, 1]
 * summing to 1 within 1e-4. out may not overlap the inputs. Errors:
 * TL_E_INVALID_ARG (NULL, k, n or c 0, a weight negative or not finite,
 * weights summing to 0, a row that is not a probability vector, naming
 * the model and row), nothing written. */
TL_API tl_status tl_ensemble_average(double *out, const double *const *probs,
                                     const double *weights, size_t k, size_t n,
                                     size_t c);

/* Class centroids of representations for the maximum cluster difference
 * below: out (c, d) row k = the mean of the rows of x (n, d; e.g. a layer
 * output read with tl_model_layer_output) whose label is k. Ruder et al.
 * (2017) take the teacher's representations of its labelled source
 * examples. Errors: TL_E_INVALID_ARG (NULL, a size 0, a label outside
 * [0, c) naming the row, a class without rows naming it), TL_E_NUMERIC (a
 * NaN or Inf in x naming the row), nothing written. */
TL_API tl_status tl_class_centroids(double *out, const float *x,
                                    const int64_t *labels, size_t n, size_t d,
                                    size_t c);

/* Maximum cluster difference (MCD; knowledge adaptation, Ruder, Ghaffari
 * & Breslin 2017), a teacher's confidence in each of n target examples
 * from its representation h_i (row i of h, (n, d)) and the class centroids
 * (c, d), c >= 2: with s_k = cos(h_i, centroid_k),
 *   out_score[i] = s_(1) - s_(2)  (the largest minus the second largest)
 * which for two classes is the paper's |cos(h, c_pos) - cos(h, c_neg)|;
 * examples near one cluster and far from the others score high (the paper
 * adds the n highest-scoring target examples, with the teacher's labels,
 * to the student's training data: tl_select_top with theta = {1} picks
 * them). out_nearest (may be NULL) gets argmax_k s_k (first on ties).
 * Cosines are computed in double after scaling each vector by its largest
 * magnitude, so no norm overflows. Errors: TL_E_INVALID_ARG (NULL, n or d
 * 0, c < 2, a zero row or centroid: it has no direction), TL_E_NUMERIC (a
 * NaN or Inf, naming the row or centroid), nothing written. */
TL_API tl_status tl_mcd_confidence(double *out_score, int64_t *out_nearest,
                                   const float *h, size_t n, size_t d,
                                   const double *centroids, size_t c);

/* ========================================================================
 * Self-labelling
 * ======================================================================== */

/* How tl_pseudo_label_select picks unlabelled rows. */
typedef enum tl_pseudo_label_mode {
  /* Rows whose largest probability is > threshold (scikit-learn
   * SelfTrainingClassifier, criterion "threshold"). */
  TL_PSEUDO_LABEL_THRESHOLD = 0,
  /* The k rows of largest top probability overall (its "k_best"). */
  TL_PSEUDO_LABEL_K_BEST = 1,
  /* For each class, the k rows predicted as that class with the largest
   * probability (class-balanced self-training). */
  TL_PSEUDO_LABEL_K_PER_CLASS = 2
} tl_pseudo_label_mode;

/* Pseudo-labels for n unlabelled rows of class probabilities probs (n, c):
 * out_selected[i] = 1 for the rows chosen by `mode` (threshold in [0, 1]
 * or k >= 1; the other is ignored), 0 else; out_labels[i] = the row's
 * argmax (first on ties) for every row. Ties in the k modes go to the
 * lower row index. *out_count (may be NULL) gets the number selected.
 * Each row must be a probability vector: entries in [0, 1] summing to 1
 * within 1e-4 (TL_E_INVALID_ARG naming the row otherwise). */
TL_API tl_status tl_pseudo_label_select(uint8_t *out_selected,
                                        int64_t *out_labels, size_t *out_count,
                                        const double *probs, size_t n, size_t c,
                                        tl_pseudo_label_mode mode,
                                        double threshold, size_t k);

/* One round of co-training (Blum & Mitchell 1998) with two views or two
 * models A and B and their class probabilities probs_a, probs_b (n, c)
 * on the same unlabelled pool: each model labels, for each class k, the
 * per_class[k] rows it predicts as k most confidently (the paper's p
 * positive and n negative examples, e.g. {3, 1} for its class ratio), and
 * those rows join the OTHER model's training set with its labels. Writes
 * out_join[0 * n + u] = 1 when row u joins A's set (chosen by B),
 * out_join[1 * n + u] = 1 when it joins B's set (chosen by A), with the
 * chooser's label in out_labels at the same place (-1 elsewhere). A row
 * may join both. Argmax ties go to the lower class, equal confidence to
 * the lower row. The host removes joined rows from the pool (and refills
 * it, as the paper's U') before the next round. Rows must be probability
 * vectors as in tl_pseudo_label_select. Errors: TL_E_INVALID_ARG (NULL, n
 * or c 0, a row that is not a probability vector naming the model and
 * row, all per_class 0), TL_E_NOMEM; nothing written. */
TL_API tl_status tl_co_training_select(uint8_t *out_join, int64_t *out_labels,
                                       const double *probs_a,
                                       const double *probs_b, size_t n,
                                       size_t c, const size_t *per_class);

/* Tri-training (Zhou & Li 2005) bookkeeping: the error estimates e'_i and
 * set sizes l'_i of three models across rounds (opaque). The host trains
 * the three models (on bootstrap samples of the labelled set at first);
 * each round it passes their predictions and gets which unlabelled rows
 * join which model's training set. */
typedef struct tl_tri_training tl_tri_training;

/* A new state (e'_i = 0.5, l'_i = 0 as in the paper). disagreement 1
 * selects Søgaard (2010)'s tri-training with disagreement: a row joins
 * model i only if the other two agree AND model i disagrees with them.
 * seed drives the paper's random subsampling of L_i. Errors:
 * TL_E_INVALID_ARG, TL_E_NOMEM. */
TL_API tl_status tl_tri_training_create(tl_tri_training **out, int disagreement,
                                        uint64_t seed);
/* Frees the state. NULL is a no-op. */
TL_API void tl_tri_training_free(tl_tri_training *tri);

/* One round. pred_labelled[m][0..n_labelled): model m's predictions on a
 * labelled set with labels `labels` (the paper estimates e_i on the
 * labelled data: the error of models j and k on the rows where they agree);
 * pred_unlabelled[m][0..n_unlabelled) their predictions on the unlabelled
 * pool. For each model i it applies the paper's conditions
 * (e_i < e'_i; l'_i = floor(e_i / (e'_i - e_i) + 1) when l'_i = 0;
 * |L_i| > l'_i and e_i |L_i| < e'_i l'_i, else subsample L_i to
 * ceil(e'_i l'_i / e_i - 1) rows when l'_i > e_i / (e'_i - e_i)) and writes
 * out_join[i * n_unlabelled + u] = 1 when row u joins model i's set this
 * round, with the label the other two agree on in out_labels[i *
 * n_unlabelled + u] (-1 where not joined). out_updated[i] = 1 when model i
 * is to be retrained on labelled + joined rows (may be NULL); e'_i, l'_i
 * then become e_i, |L_i|. *out_any (may be NULL) = 0 when no model
 * updated: the algorithm has converged. Errors: TL_E_INVALID_ARG (NULL,
 * n_labelled 0, a prediction or label < 0). */
TL_API tl_status tl_tri_training_round(uint8_t *out_join, int64_t *out_labels,
                                       uint8_t *out_updated, int *out_any,
                                       tl_tri_training *tri,
                                       const int64_t *const *pred_labelled,
                                       const int64_t *labels, size_t n_labelled,
                                       const int64_t *const *pred_unlabelled,
                                       size_t n_unlabelled);

/* Democratic co-learning (Zhou & Goldman 2004) bookkeeping for n_models
 * >= 3 models with different inductive biases (different architectures
 * or learning algorithms) trained on the same labelled set L, and a fixed
 * unlabelled pool U of n_unlabelled rows (opaque): per model the rows of U
 * already in its training set L_i, |L_i| and e_i, the estimated number of
 * mislabelled rows in L_i. */
typedef struct tl_democratic tl_democratic;

/* A new state: L_i = L (n_labelled rows, e_i = 0) for each model. Errors:
 * TL_E_INVALID_ARG (NULL, n_models < 3, n_labelled or n_unlabelled 0),
 * TL_E_NOMEM. */
TL_API tl_status tl_democratic_create(tl_democratic **out, size_t n_models,
                                      size_t n_labelled, size_t n_unlabelled);
/* Frees the state. NULL is a no-op. */
TL_API void tl_democratic_free(tl_democratic *dem);

/* One round. pred_labelled[i][0..n_labelled): model i's predictions on L
 * (labels `labels`); pred_unlabelled[i][0..n_unlabelled): on U, from the
 * models retrained on their L_i. As in the paper's Figure 1:
 * - each model's accuracy a_i on L gives a 95% confidence interval
 *   [l_i, h_i] = a_i -+ 1.96 sqrt(a_i (1 - a_i) / |L|) (normal
 *   approximation, clamped to [0, 1]) and the weight w_i = (l_i + h_i) / 2;
 * - a row u with a majority label k (predicted by more than half of the
 *   models) whose voters' weights sum to more than those of any other
 *   label is proposed, labelled k, to every model i that predicts
 *   otherwise and does not hold u yet (L'_i);
 * - with e'_i = sum over L'_i of 1 - (the mean l_j of u's majority), model
 *   i takes L'_i when q'_i > q_i, q = m (1 - 2 e / m)^2 the noise-tolerant
 *   sample size of Angluin & Laird (1988) for m = |L_i| rows with e
 *   mislabelled: q_i for L_i, q'_i for L_i + L'_i with e_i + e'_i.
 * out_join[i * n_unlabelled + u] = 1 when row u joins model i's set in this
 * round, with label k in out_labels (-1 elsewhere); out_updated[i] (may be
 * NULL) = 1 when model i took L'_i; *out_any (may be NULL) = 0 when none
 * did: the algorithm has stopped. Errors: TL_E_INVALID_ARG (NULL, a
 * negative class), nothing changed. */
TL_API tl_status tl_democratic_round(uint8_t *out_join, int64_t *out_labels,
                                     uint8_t *out_updated, int *out_any,
                                     tl_democratic *dem,
                                     const int64_t *const *pred_labelled,
                                     const int64_t *labels,
                                     const int64_t *const *pred_unlabelled);

#ifdef __cplusplus
}
#endif

#endif /* TL_TRANSFER_H */
