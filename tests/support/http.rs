//! Plain HTTP to the servers under test: an answer's JSON body or status.

use serde::de::DeserializeOwned;

/// Sends `request` and reads the answer's JSON body as `T`; panics when there is no answer or
/// its body is not that JSON.
pub async fn json_answer<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> T {
    request
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON answer of the expected shape")
}

/// Sends `request` and answers the status of its answer; panics when there is no answer.
pub async fn status(request: reqwest::RequestBuilder) -> reqwest::StatusCode {
    request.send().await.expect("the server answers").status()
}
