//! `threadkit._core`: the PyO3 bindings of the threadkit crate.
use pyo3::prelude::*;

/// The extension module `threadkit._core`.
#[pymodule]
fn _core(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
