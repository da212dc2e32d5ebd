"""Black-box methods on the engine, one file each, for every modality: a perturbation (which parts are
kept or hidden, with the modality's masker) plus an aggregator (how outputs become maps)."""
