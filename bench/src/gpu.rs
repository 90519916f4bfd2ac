//! `--gpu-check`: on a machine with an NVIDIA GPU, is CUDA there, do CPU
//! and CUDA agree on the same weights, and how fast are the concise
//! models on it. Needs the `torch` feature.

pub use check::check;

#[cfg(not(feature = "torch"))]
mod check {
    pub fn check(_: &crate::Args, _: &[usize], _: usize) -> anyhow::Result<()> {
        anyhow::bail!(
            "--gpu-check needs libtorch: build with --features torch \
             (LIBTORCH_USE_PYTORCH=1, PyTorch 2.11.0)"
        )
    }
}

#[cfg(feature = "torch")]
mod check {
    //! The GPU readiness check: is CUDA there, do CPU and CUDA agree on
    //! the same weights, and how fast are the concise models on it.
    use crate::measure::measure;
    use crate::{Args, BATCH, HIDDENS, STEPS};
    use anyhow::{bail, Result};
    use d2l::concise::ConciseRnn;
    use d2l::data::{Sampling, SeqDataLoader};
    use d2l::model::LanguageModel;
    use serde_json::json;
    use tch::{Cuda, Device, Kind};

    type Build<R> = fn(usize, usize, usize, Device, Kind) -> ConciseRnn<R>;

    /// The largest difference between the CPU model and the same model on
    /// `other` after one forward/backward from the same weights: loss, and
    /// every gradient.
    fn agreement<R: d2l::concise::TchRnn>(
        build: Build<R>,
        layers: usize,
        vocab: usize,
        loader: &SeqDataLoader,
        other: Device,
    ) -> f64 {
        tch::manual_seed(0);
        let mut cpu = build(vocab, HIDDENS, layers, Device::Cpu, Kind::Float);
        let mut gpu = build(vocab, HIDDENS, layers, other, Kind::Float);
        tch::no_grad(|| gpu.vs.copy(&cpu.vs)).expect("same variables");
        max_difference(&mut cpu, &mut gpu, loader)
    }

    /// One forward/backward of both models on the first batch, from zero
    /// states: the largest difference of the losses and of every gradient.
    fn max_difference<R: d2l::concise::TchRnn>(
        a: &mut ConciseRnn<R>,
        b: &mut ConciseRnn<R>,
        loader: &SeqDataLoader,
    ) -> f64 {
        let mut rng =
            <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
        let batch = &loader.epoch(&mut rng)[0];
        let (mut s_a, mut s_b) = (a.begin_state(BATCH), b.begin_state(BATCH));
        let l_a = a.forward_backward(batch, &mut s_a);
        let l_b = b.forward_backward(batch, &mut s_b);
        let mut worst = (l_a - l_b).abs();
        let vb = b.vs.variables();
        for (name, v) in a.vs.variables() {
            let g_b = vb[&name].grad().to_device(Device::Cpu);
            let d = (v.grad().to_device(Device::Cpu) - g_b)
                .abs()
                .max()
                .double_value(&[]);
            worst = worst.max(d);
        }
        worst
    }

    pub fn check(args: &Args, train: &[usize], vocab: usize) -> Result<()> {
        let available = Cuda::is_available();
        eprintln!(
            "Cuda::is_available() = {available}, {} device(s)",
            Cuda::device_count()
        );
        if !available {
            bail!(
                "libtorch sees no CUDA device: check nvidia-smi, and that \
                 LD_LIBRARY_PATH points at the torch/lib of a CUDA build"
            );
        }
        let loader = SeqDataLoader::new(
            train.to_vec(),
            BATCH,
            STEPS,
            Sampling::Sequential,
        )?;
        let gru: Build<tch::nn::GRU> = ch_gru::concise::ConciseGru::new;
        let lstm: Build<tch::nn::LSTM> = ch_lstm::concise::ConciseLstm::new;
        let mut models = Vec::new();
        for name in &args.models {
            let (diff, r) = match name.as_str() {
                "gru" => {
                    let d = agreement(gru, 1, vocab, &loader, Device::Cuda(0));
                    let mut m =
                        gru(vocab, HIDDENS, 1, Device::Cuda(0), Kind::Float);
                    (d, measure(&mut m, &loader, (args.warmup, args.epochs))?)
                }
                "lstm" | "lstm2" => {
                    let layers = if name == "lstm" { 1 } else { 2 };
                    let d = agreement(
                        lstm,
                        layers,
                        vocab,
                        &loader,
                        Device::Cuda(0),
                    );
                    let mut m = lstm(
                        vocab,
                        HIDDENS,
                        layers,
                        Device::Cuda(0),
                        Kind::Float,
                    );
                    (d, measure(&mut m, &loader, (args.warmup, args.epochs))?)
                }
                other => bail!("unknown model {other:?}"),
            };
            let ok = diff <= d2l::testkit::agreement::GPU_TOL;
            eprintln!(
                "{name:>5} cuda: CPU/CUDA max difference {diff:.2e} ({}), \
                 {:.0} tokens/s",
                if ok { "ok" } else { "TOO LARGE" },
                r.median
            );
            models.push(json!({
                "model": name, "impl": "concise", "device": "cuda:0",
                "cpu_cuda_max_diff": diff, "agrees": ok,
                "tokens_per_sec": {"median": r.median, "min": r.min,
                                   "max": r.max, "per_epoch": r.per_epoch},
            }));
        }
        let report = json!({
            "cuda_available": available,
            "device_count": Cuda::device_count(),
            "models": models,
        });
        let text = serde_json::to_string_pretty(&report)?;
        if let Some(dir) = args.json.parent() {
            std::fs::create_dir_all(dir)?;
        }
        d2l::io::atomic::write_atomic(&args.json, text.as_bytes())?;
        println!("{text}");
        let all_agree = report["models"]
            .as_array()
            .is_some_and(|m| m.iter().all(|m| m["agrees"] == true));
        if !all_agree {
            bail!(
                "CPU and CUDA disagree by more than {:e} (see above)",
                d2l::testkit::agreement::GPU_TOL
            );
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The comparison itself works: two copies on the CPU agree
        /// exactly, and two differently initialised models do not. (The
        /// CUDA side runs on a GPU machine only: scripts/gpu-check.sh.)
        #[test]
        fn agreement_is_zero_between_copies_and_not_between_strangers() {
            let split = d2l::data::load_splits_time_machine(Some(2_000), 1_000)
                .unwrap();
            let v = split.vocab.len();
            let loader = SeqDataLoader::new(
                split.train,
                BATCH,
                STEPS,
                Sampling::Sequential,
            )
            .unwrap();
            let lstm: Build<tch::nn::LSTM> = ch_lstm::concise::ConciseLstm::new;
            assert_eq!(agreement(lstm, 2, v, &loader, Device::Cpu), 0.0);
            let (c, f) = (Device::Cpu, Kind::Float);
            let mut a = lstm(v, HIDDENS, 2, c, f);
            let mut b = lstm(v, HIDDENS, 2, c, f);
            assert!(max_difference(&mut a, &mut b, &loader) > 1e-3);
        }
    }
}
