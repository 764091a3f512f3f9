"""Everything this project keeps in MLflow, and the only package that imports MLflow (the served pyfunc's own
module, training.serving.pyfunc, aside). Flows and the tuner call it; pure training modules never do.

The run tree is pipeline run -> one stage run per stage -> one candidate run per variant or trial.

- uris: where the store is and how a person opens it;
- runs: a connection to one experiment (Tracker): open and end runs, write and read their data;
- epoch_logger: the Keras callback behind the per-epoch curves;
- records: what each level of the tree records (split, fitted network, search, stage);
- candidates: train and record a candidate or tuner trial, the one way a network is trained;
- models: the logged Keras network and the registered pyfunc, and loading them;
- queries: reading the tree back (stages, candidates, earlier pipeline runs);
- resume: which pipeline run to continue, refused with the reason (the policy is training.runtime.resume_policy);
- stale: closing runs whose owner died (judged by training.runtime.ownership);
- registry: registered versions, aliases and their history;
- promotion: registering a winner and gating `champion` (the decisions are training.method.gate's);
- errors: telling a missing run or model from a store that cannot answer.
"""
