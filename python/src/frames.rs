//! obs and var, as the Python layer describes them → `ObsFrame` / `VarFrame`.
//!
//! obs: a list of `(name, kind, *payload)` with kind one of `numeric (values)`,
//! `nullable (values, missing)`, `categorical (categories, codes)`, `strings (list)`,
//! `bool (values)`, `nullable_bool (list)`, `unsupported (dtype repr)`; the pandas dtype
//! decides the kind in Python, by the reference's own tests (`_inputs.py`).
//! var: `(index list, [(column name, list)])` of plain Python scalars.

use cellucid_core::{Label, ObsColumn, ObsData, ObsFrame, Values, VarFrame};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple};

use crate::error::ConvertError;
use crate::values::{indices, type_name, values};

/// A category label or var entry, keeping its JSON type; `None` becomes NaN as in pandas.
pub fn label(obj: &Bound<'_, PyAny>, what: &str) -> Result<Label, ConvertError> {
    // bool before int: Python's bool is an int subclass.
    if obj.is_instance_of::<PyBool>() {
        return Ok(Label::Bool(obj.extract().unwrap_or_default()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract().map(Label::Int).map_err(|_| ConvertError::Value(format!("{what}: integer beyond int64")));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Label::Float(obj.extract().unwrap_or(f64::NAN)));
    }
    if obj.is_instance_of::<PyString>() {
        return obj.extract().map(Label::Str).map_err(|_| ConvertError::Value(format!("{what}: not valid Unicode")));
    }
    if obj.is_none() {
        return Ok(Label::Float(f64::NAN));
    }
    Err(ConvertError::Type(format!("{what}: value of type {} is not a JSON scalar", type_name(obj))))
}

fn labels(obj: &Bound<'_, PyAny>, what: &str) -> Result<Vec<Label>, ConvertError> {
    let items: Vec<Bound<'_, PyAny>> =
        obj.extract().map_err(|_| ConvertError::Type(format!("{what}: expected a list")))?;
    items.iter().map(|x| label(x, what)).collect()
}

fn item<'py>(t: &Bound<'py, PyTuple>, i: usize, what: &str) -> Result<Bound<'py, PyAny>, ConvertError> {
    t.get_item(i).map_err(|_| ConvertError::Value(format!("{what}: description too short")))
}

fn extract<'py, T: pyo3::conversion::FromPyObjectOwned<'py>>(
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> Result<T, ConvertError> {
    obj.extract().map_err(|_| ConvertError::Type(format!("{what}: unexpected type {}", type_name(obj))))
}

fn obs_column(obj: &Bound<'_, PyAny>) -> Result<ObsColumn, ConvertError> {
    let t = obj.cast::<PyTuple>().map_err(|_| ConvertError::Type("obs column description".into()))?;
    let name: String = extract(&item(t, 0, "obs column")?, "obs column name")?;
    let what = format!("obs[{name:?}]");
    let kind: String = extract(&item(t, 1, &what)?, &what)?;
    let arg = |i| item(t, i, &what);
    let data = match kind.as_str() {
        "numeric" => ObsData::Numeric(values(&arg(2)?, &what)?.1),
        "nullable" => {
            let missing = match values(&arg(3)?, &what)?.1 {
                Values::Bool(m) => m,
                _ => return Err(ConvertError::Type(format!("{what}: missing mask must be bool"))),
            };
            ObsData::NullableNumeric { values: values(&arg(2)?, &what)?.1, missing }
        }
        "categorical" => {
            let categories = labels(&arg(2)?, &what)?;
            let codes = indices::<i32>(&arg(3)?, &what)?
                .map_err(|c| ConvertError::Value(format!("{what}: code {c} out of range")))?;
            ObsData::Categorical { categories, codes }
        }
        "strings" => ObsData::Strings(extract(&arg(2)?, &what)?),
        "bool" => match values(&arg(2)?, &what)?.1 {
            Values::Bool(v) => ObsData::Bool(v),
            _ => return Err(ConvertError::Type(format!("{what}: bool values expected"))),
        },
        "nullable_bool" => ObsData::NullableBool(extract(&arg(2)?, &what)?),
        "unsupported" => ObsData::Unsupported { dtype_repr: extract(&arg(2)?, &what)? },
        other => return Err(ConvertError::Value(format!("{what}: unknown column kind {other:?}"))),
    };
    Ok(ObsColumn { name, data })
}

/// `(n_rows, [column, …])`.
pub fn obs(obj: &Bound<'_, PyAny>) -> Result<ObsFrame, ConvertError> {
    let (n_rows, columns): (usize, Vec<Bound<'_, PyAny>>) = extract(obj, "obs")?;
    let columns = columns.iter().map(obs_column).collect::<Result<Vec<_>, _>>()?;
    Ok(ObsFrame { n_rows, columns })
}

/// `(index, [(name, values), …])`.
pub fn var(obj: &Bound<'_, PyAny>) -> Result<VarFrame, ConvertError> {
    let (index, columns): (Bound<'_, PyAny>, Vec<(String, Bound<'_, PyAny>)>) = extract(obj, "var")?;
    let index = labels(&index, "var index")?;
    let columns = columns
        .into_iter()
        .map(|(name, vals)| labels(&vals, &format!("var[{name:?}]")).map(|v| (name, v)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(VarFrame { index, columns })
}
