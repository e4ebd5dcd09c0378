//! A parameter that is sent must be `Serialize`: reported at its type.

struct Connection;

#[ledgix::guarded]
async fn query(conn: &Connection, sql: String) -> Result<u64, ledgix::Error> {
    let _ = (conn, sql);
    Ok(1)
}

#[ledgix::guarded]
async fn generic<T: Send>(value: T) -> Result<T, ledgix::Error> {
    Ok(value)
}

fn main() {}
